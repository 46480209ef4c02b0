import Collective
import Datasets
import TensorCore

/// A metric of your own, measured at every evaluation beside the built-in ones.
///
/// Each batch gives a sum and a count; the reported value is Σ sum / Σ count over every batch
/// of the split on every rank, added in the split's order, so it does not depend on the world
/// size. It appears in metrics.jsonl, train.log and TensorBoard under its `name`.
public protocol EvaluationMetric: Sendable {
    /// The key in metrics.jsonl (for example "within_one").
    var name: String { get }
    /// The metric's sum and count over one batch.
    /// - Parameters:
    ///   - outputs: a classifier's logits (M, C), one row per target, or a regressor's predictions (N, K).
    ///   - batch: the batch, whose `flatTargets` line up with the outputs' rows.
    func measure(outputs: NDArray, batch: Batch) -> (sum: Double, count: Double)
}

/// The sums of a list of metrics over one evaluation.
struct EvaluationMetricSums {
    let metrics: [any EvaluationMetric]
    private var sum: OrderedSum

    init(_ metrics: [any EvaluationMetric]) {
        self.metrics = metrics
        sum = OrderedSum(width: 2 * metrics.count)
    }

    /// Adds one batch's outputs under the chunk's key.
    mutating func add(outputs: NDArray, batch: Batch, key: Int) {
        guard !metrics.isEmpty else { return }
        sum.add(
            key: key,
            metrics.flatMap { m in
                let r = m.measure(outputs: outputs, batch: batch); return [r.sum, r.count]
            })
    }

    /// Every metric's value by name (a collective: every rank calls it).
    func values(over communicator: Communicator) -> [String: Double] {
        guard !metrics.isEmpty else { return [:] }
        let totals = sum.totals(over: communicator)
        var out: [String: Double] = [:]
        for (i, m) in metrics.enumerated() { out[m.name] = totals[2 * i] / totals[2 * i + 1] }
        return out
    }
}
