import Collective

/// MAE, MSE, RMSE and R² over every rank's samples, added in chunk order so the result does
/// not depend on the world size.
public struct RegressionAccumulator {
    /// Targets per sample.
    public let outputs: Int
    /// Per output k: |error| sum, squared error sum, target sum, squared target sum; then the count.
    private var sums: OrderedSum
    private var loss = OrderedSum(width: 2)

    /// - Parameter outputs: targets per sample (columns of the predictions).
    public init(outputs: Int = 1) {
        self.outputs = outputs
        sums = OrderedSum(width: 4 * outputs + 1)
    }

    /// Adds one chunk of predictions and targets (row-major (N, outputs), the same length).
    /// - Parameters:
    ///   - predictions: the model's outputs.
    ///   - targets: the true values.
    ///   - chunkLoss: the chunk's mean loss, weighted by its samples.
    ///   - key: the chunk's index, which orders the sums.
    public mutating func add(predictions: [Float], targets: [Float], loss chunkLoss: Double = 0, key: Int = 0) {
        precondition(
            predictions.count == targets.count && targets.count % outputs == 0,
            "\(predictions.count) predictions for \(targets.count) targets of \(outputs) outputs")
        var row = [Double](repeating: 0, count: 4 * outputs + 1)
        for (i, (p, t)) in zip(predictions, targets).enumerated() {
            let k = 4 * (i % outputs), d = Double(p) - Double(t), y = Double(t)
            row[k] += Swift.abs(d)
            row[k + 1] += d * d
            row[k + 2] += y
            row[k + 3] += y * y
        }
        let samples = Double(targets.count / outputs)
        row[4 * outputs] = samples
        sums.add(key: key, row)
        loss.add(key: key, chunkLoss * samples, samples)
    }

    /// The metrics over all ranks (a collective). R² is scikit-learn's `r2_score` averaged over
    /// the outputs (1 - SSE / SST per output); NaN when a target does not vary.
    public func reduce(over communicator: Communicator) -> RegressionScores {
        let s = sums.totals(over: communicator), l = loss.totals(over: communicator)
        let n = s[4 * outputs]
        guard n > 0 else { return RegressionScores(loss: .nan, mae: .nan, mse: .nan, r2: .nan) }
        var absolute = 0.0, squared = 0.0, r2 = 0.0
        for k in 0..<outputs {
            let b = 4 * k
            absolute += s[b]
            squared += s[b + 1]
            let total = s[b + 3] - s[b + 2] * s[b + 2] / n
            r2 += total > 0 ? 1 - s[b + 1] / total : .nan
        }
        let values = n * Double(outputs)
        return RegressionScores(
            loss: l[0] / l[1], mae: absolute / values, mse: squared / values, r2: r2 / Double(outputs))
    }
}

/// What a regression evaluation reports.
public struct RegressionScores: Sendable, Equatable {
    /// The model's training loss (MSE, MAE or Huber) on the split.
    public var loss: Double
    /// Mean absolute and mean squared error over every target value.
    public var mae: Double, mse: Double
    /// The coefficient of determination, averaged over the outputs.
    public var r2: Double
    /// √MSE, in the targets' unit.
    public var rmse: Double { mse.squareRoot() }
}
