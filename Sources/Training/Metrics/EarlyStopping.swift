/// Stops training when a validation metric has not improved by more than `minDelta` for
/// `patience` evaluations (as Keras' EarlyStopping and PyTorch Lightning's).
public struct EarlyStopping: Sendable, Equatable, Codable {
    public let minimize: Bool, patience: Int, minDelta: Double
    public private(set) var best: Double?
    public private(set) var evaluationsWithoutImprovement = 0

    public init(minimize: Bool, patience: Int, minDelta: Double = 0) {
        precondition(patience >= 1 && minDelta >= 0, "patience must be positive and min_delta non-negative")
        (self.minimize, self.patience, self.minDelta) = (minimize, patience, minDelta)
    }

    /// Records one evaluation; returns true when training should stop. The metric is the
    /// same on every rank, so every rank takes the same decision.
    public mutating func shouldStop(after metric: Double) -> Bool {
        let improved = best.map { minimize ? metric < $0 - minDelta : metric > $0 + minDelta } ?? true
        if improved {
            best = metric
            evaluationsWithoutImprovement = 0
        } else {
            evaluationsWithoutImprovement += 1
        }
        return evaluationsWithoutImprovement >= patience
    }
}
