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
    ///   - dataset: split into chunks of `batchSize` consecutive samples; rank r evaluates chunks
    ///     r, r + world, ... (each chunk is one forward, the same on any rank, and losses are
    ///     added in chunk order, so the metrics do not depend on the world size).
    ///   - communicator: the world; every rank calls this.
    ///   - batchSize: samples per chunk.
    ///   - limit: evaluate only the first `limit` samples (nil: all).
    ///   - topK: k of the top-k accuracy.
    ///   - precision: the forward's compute type (float16/bfloat16 under autocast).
    ///   - metrics: your own metrics, measured on a classifier's logits or a regressor's predictions.
    /// - Returns: metrics identical on every rank (a collective: every rank calls it).
    public static func evaluate(
        _ model: any TrainableModel, on dataset: any Dataset, communicator: Communicator,
        batchSize: Int, topK: Int, limit: Int? = nil, precision: DType = .float32,
        metrics: [any EvaluationMetric] = []
    ) -> EvaluationMetrics {
        // Evaluation draws (a VAE's ε, a GAN's z) come from the model's streams; put them back
        // after, so evaluating never changes what training draws next.
        let streams = model.namedRandomStreams().map(\.1), saved = streams.map(\.rng)
        defer { for (stream, state) in zip(streams, saved) { stream.rng = state } }
        if let regressor = model as? any Regressor {
            return regression(
                regressor, on: dataset, communicator: communicator, batchSize: batchSize, limit: limit,
                precision: precision, metrics: metrics)
        }
        guard let model = model as? any Classifier else {
            return lossOnly(
                model, on: dataset, communicator: communicator, batchSize: batchSize, limit: limit, precision: precision
            )
        }
        let count = min(dataset.count, limit ?? .max)
        var accumulator = ClassificationAccumulator(
            classes: dataset.classCount, topK: topK,
            collectsScores: count * dataset.targetsPerSample * dataset.classCount <= rocAUCLimit,
            sequenceLength: dataset.targetsPerSample,
            scoresWholeSequences: dataset.scoresWholeSequences)
        var own = EvaluationMetricSums(metrics)
        forEachChunk(model, dataset, count: count, batchSize: batchSize, communicator) { batch, chunk in
            let (logits, loss) = withAutocast(precision) { () -> (Tensor, Tensor) in
                let logits = model.logits(batch.inputs)
                return (logits, Loss.crossEntropy(logits, batch.flatTargets))
            }
            accumulator.add(logits: logits.values, targets: batch.flatTargets, loss: Double(loss.item), key: chunk)
            own.add(outputs: logits.values, batch: batch, key: chunk)
        }
        var m = accumulator.reduce(over: communicator)
        m.custom = own.values(over: communicator)
        return m
    }

    /// A regressor's loss, MAE, MSE, RMSE and R².
    static func regression(
        _ model: any Regressor, on dataset: any Dataset, communicator: Communicator,
        batchSize: Int, limit: Int?, precision: DType, metrics: [any EvaluationMetric]
    ) -> EvaluationMetrics {
        let count = min(dataset.count, limit ?? .max)
        var accumulator = RegressionAccumulator(outputs: model.outputs)
        var own = EvaluationMetricSums(metrics)
        forEachChunk(model, dataset, count: count, batchSize: batchSize, communicator) { batch, chunk in
            let (predictions, loss) = withAutocast(precision) { () -> (Tensor, Tensor) in
                let predictions = model.predictions(batch.inputs)
                return (
                    predictions, model.regressionLoss(predictions, Tensor(batch.targets.reshaped(predictions.shape)))
                )
            }
            accumulator.add(
                predictions: predictions.values.scalars, targets: batch.targets.scalars, loss: Double(loss.item),
                key: chunk)
            own.add(outputs: predictions.values, batch: batch, key: chunk)
        }
        let scores = accumulator.reduce(over: communicator)
        var m = EvaluationMetrics()
        m.isClassification = false
        m.samples = count
        m.loss = scores.loss
        m.regression = scores
        m.custom = own.values(over: communicator)
        return m
    }

    /// The mean loss of a model that is not a classifier (an autoencoder's reconstruction loss).
    static func lossOnly(
        _ model: any TrainableModel, on dataset: any Dataset, communicator: Communicator,
        batchSize: Int, limit: Int?, precision: DType
    ) -> EvaluationMetrics {
        let count = min(dataset.count, limit ?? .max)
        var sum = OrderedSum(width: 2)
        forEachChunk(model, dataset, count: count, batchSize: batchSize, communicator) { batch, chunk in
            let loss = withAutocast(precision) {
                model.loss(inputs: batch.inputs, targets: batch.flatTargets, labelSmoothing: 0)
            }
            sum.add(key: chunk, Double(loss.item) * Double(batch.count), Double(batch.count))
        }
        let total = sum.totals(over: communicator)
        var m = EvaluationMetrics()
        m.isClassification = false
        m.samples = Int(total[1])
        m.loss = total[1] > 0 ? total[0] / total[1] : .nan
        return m
    }

    /// Runs `body` on this rank's chunks of the first `count` samples (with the chunk's index),
    /// in evaluation mode and without gradients, and restores the model's mode after.
    static func forEachChunk(
        _ model: any TrainableModel, _ dataset: any Dataset, count: Int, batchSize: Int,
        _ communicator: Communicator, _ body: (Batch, Int) -> Void
    ) {
        let wasTraining = model.training
        model.eval()
        defer { model.train(wasTraining) }
        let loader = BatchLoader(
            dataset: dataset, indices: chunks(count: count, batchSize: batchSize, communicator), batchSize: batchSize)
        withNoGrad {
            var chunk = communicator.rank
            while let batch = loader.next() {
                body(batch, chunk)
                chunk += communicator.size
            }
        }
    }

    /// This rank's samples: chunks rank, rank + world, ... of `batchSize` consecutive indices
    /// below `count` (only the split's last chunk may be short, and it ends the rank's list).
    static func chunks(count: Int, batchSize: Int, _ communicator: Communicator) -> [Int] {
        stride(from: communicator.rank * batchSize, to: count, by: communicator.size * batchSize)
            .flatMap { $0..<min($0 + batchSize, count) }
    }
}
