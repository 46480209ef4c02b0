import Collective
import Datasets
import Models
import NN

/// Evaluates a classifier on a dataset split across the ranks, without padding, so every
/// sample counts exactly once in the reduced metrics.
public enum Evaluator {
    /// Above this many probabilities (samples × classes) ROC-AUC is skipped: it needs them all in memory.
    public static let rocAUCLimit = 10_000_000

    /// - Parameters:
    ///   - model: switched to evaluation mode for the pass and restored afterwards.
    ///   - dataset: rank r evaluates samples r, r + world, ...
    ///   - limit: evaluate only the first `limit` samples (nil: all).
    ///   - topK: k of the top-k accuracy.
    ///   - precision: the forward's compute type (float16/bfloat16 under autocast).
    /// - Returns: metrics identical on every rank (a collective: every rank calls it).
    public static func evaluate(_ model: any Classifier, on dataset: any Dataset, communicator: Communicator,
                                batchSize: Int, topK: Int, limit: Int? = nil, precision: DType = .float32) -> EvaluationMetrics {
        let wasTraining = model.training
        model.eval()
        defer { model.train(wasTraining) }
        let count = min(dataset.count, limit ?? .max)
        let indices = Array(stride(from: communicator.rank, to: count, by: communicator.size))
        let loader = BatchLoader(dataset: dataset, indices: indices, batchSize: batchSize)
        var accumulator = ClassificationAccumulator(classes: dataset.classCount, topK: topK,
                                                    collectsScores: count * dataset.targetsPerSample * dataset.classCount <= rocAUCLimit,
                                                    sequenceLength: dataset.targetsPerSample)
        withNoGrad {
            while let batch = loader.next() {
                let (logits, loss) = withAutocast(precision) { () -> (Tensor, Tensor) in
                    let logits = model.logits(batch.inputs)
                    return (logits, Loss.crossEntropy(logits, batch.flatTargets))
                }
                accumulator.add(logits: logits.values, targets: batch.flatTargets, loss: Double(loss.item))
            }
        }
        return accumulator.reduce(over: communicator)
    }
}
