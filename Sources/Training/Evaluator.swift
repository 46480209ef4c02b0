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
    public static func evaluate(_ model: any TrainableModel, on dataset: any Dataset, communicator: Communicator,
                                batchSize: Int, topK: Int, limit: Int? = nil, precision: DType = .float32) -> EvaluationMetrics {
        // Evaluation draws (a VAE's ε, a GAN's z) come from the model's streams; put them back
        // after, so evaluating never changes what training draws next.
        let streams = model.namedRandomStreams().map(\.1), saved = streams.map(\.rng)
        defer { for (stream, state) in zip(streams, saved) { stream.rng = state } }
        guard let model = model as? any Classifier else {
            return lossOnly(model, on: dataset, communicator: communicator, batchSize: batchSize, limit: limit, precision: precision)
        }
        let wasTraining = model.training
        model.eval()
        defer { model.train(wasTraining) }
        let count = min(dataset.count, limit ?? .max)
        let indices = Array(stride(from: communicator.rank, to: count, by: communicator.size))
        let loader = BatchLoader(dataset: dataset, indices: indices, batchSize: batchSize)
        var accumulator = ClassificationAccumulator(classes: dataset.classCount, topK: topK,
                                                    collectsScores: count * dataset.targetsPerSample * dataset.classCount <= rocAUCLimit,
                                                    sequenceLength: dataset.targetsPerSample,
                                                    scoresWholeSequences: dataset.scoresWholeSequences)
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

    /// The mean loss of a model that is not a classifier (an autoencoder's reconstruction loss).
    static func lossOnly(_ model: any TrainableModel, on dataset: any Dataset, communicator: Communicator,
                         batchSize: Int, limit: Int?, precision: DType) -> EvaluationMetrics {
        let wasTraining = model.training
        model.eval()
        defer { model.train(wasTraining) }
        let count = min(dataset.count, limit ?? .max)
        let loader = BatchLoader(dataset: dataset, indices: Array(stride(from: communicator.rank, to: count, by: communicator.size)),
                                 batchSize: batchSize)
        var sum = 0.0, n = 0.0
        withNoGrad {
            while let batch = loader.next() {
                let loss = withAutocast(precision) { model.loss(inputs: batch.inputs, targets: batch.flatTargets, labelSmoothing: 0) }
                sum += Double(loss.item) * Double(batch.count)
                n += Double(batch.count)
            }
        }
        let total = communicator.allreduce([sum, n])
        var m = EvaluationMetrics()
        m.isClassification = false
        m.samples = Int(total[1])
        m.loss = total[1] > 0 ? total[0] / total[1] : .nan
        return m
    }
}
