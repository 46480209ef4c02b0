import Foundation
import TandemKit

/// A metric of the example's own: the mean probability the model gives the true class.
///
/// Accuracy only asks whether the true class wins; this asks how sure the model is of it (1 is
/// certain and right). The trainer measures it at every evaluation, sums it over the batches of
/// every rank, and logs it as `true_class_probability` beside the built-in metrics.
struct TrueClassProbability: EvaluationMetric {
    let name = "true_class_probability"

    /// The softmax probability of each row's target, summed, over the rows.
    func measure(outputs: NDArray, batch: Batch) -> (sum: Double, count: Double) {
        let logits = outputs.scalars, targets = batch.flatTargets.indices
        let rows = outputs.shape[0], classes = outputs.shape[1]
        var sum = 0.0
        for r in 0..<rows {
            let row = logits[(r * classes)..<((r + 1) * classes)]
            let largest = row.max()!
            let total = row.reduce(0.0) { $0 + exp(Double($1 - largest)) }
            sum += exp(Double(row[r * classes + Int(targets[r])] - largest)) / total
        }
        return (sum, Double(rows))
    }
}
