import Models
import NN
import TensorCore

/// The checks and settings the trainer's two paths (a config's model, a model built in code) share.
extension Trainer {
    /// Keys that every metrics.jsonl evaluation line may already hold.
    static let builtInMetricKeys: Set<String> = [
        "split", "step", "epoch", "samples", "loss", "accuracy", "precision_macro", "recall_macro", "f1_macro",
        "perplexity", "roc_auc", "exact_match", "precision", "recall", "f1", "confusion_matrix", "classes",
        "classifier_score", "mae", "mse", "rmse", "r2",
    ]

    /// Sizes the thread pool as `distributed.threads_per_rank` says, before any data is read.
    /// - Parameter config: the run's settings.
    static func configureThreads(_ config: TrainConfig) {
        ThreadPool.configure(threads: config.distributed.threadsPerRank ?? ThreadPool.defaultThreadCount())
    }

    /// What the config asks of the model as built: a model declared in YAML or in code tells what
    /// it holds only once it exists.
    /// - Parameters:
    ///   - config: the run's settings.
    ///   - model: the built model.
    static func check(_ config: TrainConfig, builtModel model: any TrainableModel) throws {
        if config.deterministic, let (name, _) = model.namedModules().first(where: { $0.1 is NN.BatchNorm }) {
            throw ConfigError(
                "deterministic: true needs a model without batch norm (its running statistics are per rank), "
                    + "but the model has batch norm at \(name.isEmpty ? "its top" : name); remove it or set "
                    + "deterministic: false")
        }
    }

    /// Your own metrics need outputs to measure, and names of their own.
    /// - Parameters:
    ///   - metrics: the metrics given to the trainer.
    ///   - model: the model they measure.
    static func check(_ metrics: [any EvaluationMetric], for model: any TrainableModel) throws {
        guard !metrics.isEmpty else { return }
        guard model is any Classifier || model is any Regressor else {
            throw ConfigError(
                "metrics \(metrics.map(\.name)) need outputs to measure: \(type(of: model)) is neither a "
                    + "Classifier (logits) nor a Regressor (predictions); make it one, or measure in its loss")
        }
        var seen: Set<String> = []
        for m in metrics {
            let clash = builtInMetricKeys.contains(m.name) || m.name.hasPrefix("top")
            guard !m.name.isEmpty, !clash, seen.insert(m.name).inserted else {
                throw ConfigError(
                    "metric name \"\(m.name)\" is empty, repeated or one a built-in metric uses; give each of "
                        + "your metrics its own name (built-in: \(builtInMetricKeys.sorted().joined(separator: ", ")))")
            }
        }
    }
}
