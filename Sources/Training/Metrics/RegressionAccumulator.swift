import Collective

/// Mean absolute and mean squared error over every rank's samples.
public struct RegressionAccumulator {
    private var absoluteSum = 0.0, squaredSum = 0.0, count = 0.0

    public init() {}

    /// Adds predictions and targets of the same length.
    public mutating func add(predictions: [Float], targets: [Float]) {
        precondition(
            predictions.count == targets.count, "\(predictions.count) predictions for \(targets.count) targets")
        for (p, t) in zip(predictions, targets) {
            let d = Double(p) - Double(t)
            absoluteSum += Swift.abs(d)
            squaredSum += d * d
        }
        count += Double(predictions.count)
    }

    /// (MAE, MSE) over all ranks (a collective).
    public func reduce(over communicator: Communicator) -> (mae: Double, mse: Double) {
        let s = communicator.allreduce([absoluteSum, squaredSum, count])
        return s[2] > 0 ? (s[0] / s[2], s[1] / s[2]) : (.nan, .nan)
    }
}
