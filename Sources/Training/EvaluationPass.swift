import Collective
import Datasets
import Foundation
import Logging
import Models
import NN

/// The run's evaluations: a split's metrics over every rank (with a generative model's
/// classifier score), recorded in metrics.jsonl and the log, and the last validation kept.
final class EvaluationPass {
    let config: TrainConfig
    let communicator: Communicator
    let model: any TrainableModel
    /// Scores a generative model's images with a trained classifier (`model.score_classifier`).
    let scorer: ClassifierScore?
    /// The data's class names (image folders, tables), for the per-class metrics of the final line.
    let classNames: [String]?
    /// The user's own metrics, measured beside the built-in ones.
    let metrics: [any EvaluationMetric]
    let outputs: RunOutputs?
    let logger: Logger
    /// The last validation metrics (a checkpoint records them), and the step they were taken at.
    private(set) var lastValidation: EvaluationMetrics?
    private(set) var validatedAtStep = -1

    /// - Parameters:
    ///   - scorer: the classifier that scores a GAN's images (nil: no score).
    ///   - classNames: the data's class names, if it has them.
    ///   - metrics: the user's own metrics.
    init(
        config: TrainConfig, communicator: Communicator, model: any TrainableModel, scorer: ClassifierScore?,
        classNames: [String]? = nil, metrics: [any EvaluationMetric] = [], outputs: RunOutputs?, logger: Logger
    ) {
        (self.classNames, self.metrics) = (classNames, metrics)
        self.config = config
        self.communicator = communicator
        self.model = model
        self.scorer = scorer
        self.outputs = outputs
        self.logger = logger
    }

    /// Evaluates `dataset` on every rank and records the metrics (a collective).
    /// - Parameters:
    ///   - split: the split's name in metrics.jsonl and the log.
    ///   - step, epoch: where the metrics line says the run stands.
    ///   - detailed: per-class metrics in the line (the final evaluation).
    ///   - position: where training stands, in words, for the log.
    func evaluate(
        _ dataset: any Dataset, split: String, step: Int, epoch: Int, detailed: Bool,
        position: String
    ) -> EvaluationMetrics {
        var m = Evaluator.evaluate(
            model, on: dataset, communicator: communicator,
            batchSize: max(config.data.batchSize, 256), topK: config.training.topK,
            limit: config.training.maxEvalSamples, precision: config.precision.computeType, metrics: metrics)
        if let scorer, let gan = model as? any AdversarialModel {
            // 1000 images over the ranks, each rank from its own stream.
            let count = 1000 / communicator.size + (communicator.rank < 1000 % communicator.size ? 1 : 0)
            var rng = PhiloxRNG(seed: UInt64(config.seed) &* 7919 &+ UInt64(communicator.rank))
            m.classifierScore = scorer.score(gan.generate(count: count, rng: &rng), over: communicator)
        }
        var line = m.json(split: split, step: step, epoch: epoch, detailed: detailed)
        if detailed, m.isClassification, let classNames { line["classes"] = classNames }
        outputs?.record(line)
        logger.info("\(Self.summary(m, split: split, position: position))")
        return m
    }

    /// A validation pass, kept as the run's last validation.
    /// - Parameters:
    ///   - step: the step it is taken at.
    ///   - epoch: the 0-based epoch the metrics line names.
    func validate(_ dataset: any Dataset, step: Int, epoch: Int, position: String) -> EvaluationMetrics {
        let m = evaluate(dataset, split: "validation", step: step, epoch: epoch, detailed: false, position: position)
        lastValidation = m
        validatedAtStep = step
        return m
    }

    /// The metrics in one line: the loss, a classifier's accuracy, F1 and the rest, then the user's own.
    static func summary(_ m: EvaluationMetrics, split: String, position: String) -> String {
        builtInSummary(m, split: split, position: position)
            + m.custom.sorted { $0.key < $1.key }.map { String(format: ", %@ %.4f", $0.key, $0.value) }.joined()
    }

    private static func builtInSummary(_ m: EvaluationMetrics, split: String, position: String) -> String {
        if let r = m.regression {
            return String(
                format: "%@ %@: loss %.4f, mae %.4f, rmse %.4f, r2 %.4f", split, position, m.loss, r.mae, r.rmse, r.r2)
        }
        guard m.isClassification else {
            return String(
                format: "%@ %@: loss %.4f%@", split, position, m.loss,
                m.classifierScore.map { String(format: ", classifier_score %.3f", $0) } ?? "")
        }
        return String(
            format: "%@ %@: loss %.4f, accuracy %.4f, f1_macro %.4f%@%@", split, position, m.loss,
            m.accuracy, m.f1Macro, m.rocAUC.map { String(format: ", roc_auc %.4f", $0) } ?? "",
            m.exactMatch.map { String(format: ", exact_match %.4f", $0) } ?? "")
    }
}
