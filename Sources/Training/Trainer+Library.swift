import Collective
import Datasets
import Models
import NN
import TensorCore

/// The trainer's two paths, a config's registered model and a model built in code, and the checks
/// and settings they share.
extension Trainer {
    /// Loads the data the config names, builds its registered model, and checks that every rank agrees:
    /// what `tandem train` runs.
    /// - Parameters:
    ///   - config: the resolved configuration.
    ///   - runDirectory: where rank 0 writes config.yaml, metrics.jsonl, train.log and the model
    ///     (nil: write nothing, as in tests of the loop itself).
    ///   - communicator: the world.
    ///   - resume: a checkpoint to continue from (`.auto`: the newest whole one in the run
    ///     directory, or a fresh start when there is none).
    public convenience init(
        config: TrainConfig, runDirectory: String?, communicator: Communicator,
        resume: ResumeSource? = nil
    ) throws {
        Self.configureThreads(config)
        // Data and model first: a run that cannot start leaves no run directory behind.
        let data = try DataSplits.load(config.data, seed: config.seed)
        let model = try ModelFactory.make(config.model, for: data.train, seed: config.seed)
        try self.init(
            config: config, model: model, data: data,
            names: (config.model.name.rawValue, config.data.name.rawValue), custom: false, runDirectory: runDirectory,
            communicator: communicator, resume: resume, metrics: [])
    }

    /// Trains a model you built on data you built, with everything a config run has: data
    /// parallelism under mpirun, accumulation, clipping, schedules, mixed precision, checkpoints
    /// and resume, metrics, TensorBoard, the progress bar and the stop signals.
    ///
    /// The config's `model:` keys other than `init_from` and its `data:` source keys are not
    /// used; its `data.batch_size`, `data.shuffle` and the other loader keys are. Build the model
    /// the same way on every rank (rank 0's weights are broadcast at the start).
    /// - Parameters:
    ///   - config: the run's settings (`TrainConfig()` holds every default).
    ///   - model: the model: its `loss` is what training minimises; a `Classifier` is scored with
    ///     the classification metrics, a `Regressor` with the regression ones, any other model by its loss.
    ///   - data: the train, validation and (optional) test splits.
    ///   - runDirectory: where rank 0 writes the run (nil: write nothing).
    ///   - communicator: the world (`MPICommunicator` under mpirun, else `SingleProcessCommunicator`).
    ///   - resume: a checkpoint to continue from.
    ///   - metrics: your own metrics, measured at every evaluation.
    /// - Throws: `ConfigError` for settings the model or data cannot train with.
    public convenience init(
        config: TrainConfig, model: any TrainableModel, data: DataSplits, runDirectory: String?,
        communicator: Communicator, resume: ResumeSource? = nil, metrics: [any EvaluationMetric] = []
    ) throws {
        let name = String(describing: type(of: model))
        let problems = config.problems(customModel: (name, ModelEntry.Capabilities(of: model)))
        guard problems.isEmpty else { throw ConfigError(problems) }
        Self.configureThreads(config)
        try self.init(
            config: config, model: model, data: data, names: (name, String(describing: type(of: data.train))),
            custom: true, runDirectory: runDirectory,
            communicator: communicator, resume: resume, metrics: metrics)
    }

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
