import Datasets

/// A training run's whole configuration, as `configs/*.yaml` holds it.
///
/// Every key has a default, so a file states only what differs; `ConfigLoader` rejects
/// unknown keys, wrong types and out-of-range values with the key path, and the resolved
/// configuration (defaults filled in) is written to the run directory.
public struct TrainConfig: Codable, Equatable, Sendable {
    public var seed = 0
    /// Bit-identical weights and losses for any world size that divides
    /// `distributed.micro_shards` (docs/DETERMINISM.md).
    public var deterministic = false
    public var model = ModelConfig()
    public var data = DataConfig()
    public var training = TrainingConfig()
    public var optimizer = OptimizerConfig()
    public var schedule = ScheduleConfig()
    public var clipping = ClippingConfig()
    public var precision = PrecisionConfig()
    public var distributed = DistributedConfig()
    public var checkpointing = CheckpointingConfig()
    public var logging = LoggingConfig()
    public var pruning = PruningConfig()
    public var distillation = DistillationConfig()

    public init() {}

    /// Every problem with the values, or nil.
    /// - Parameter customModel: a model built in code (its type's name, and what it supports, nil
    ///   while it is not built yet: the checks that depend on it wait for the trainer), which
    ///   stands for `model:`; nil for the registered model `model.name` names.
    public func problems(customModel: (name: String, capabilities: ModelEntry.Capabilities?)? = nil) -> [String] {
        var v = ConfigValidator()
        v.require(seed >= 0 && seed <= ConfigLimits.seed, "seed", seed, "an integer from 0 to \(ConfigLimits.seed)")
        if customModel == nil { model.validate(&v) }
        data.validate(&v)
        if customModel == nil { validateReads(&v) }
        let modelKey = customModel == nil ? "model.name" : "model"
        let modelValue: Any = customModel?.name ?? model.name
        let capabilities = customModel == nil ? model.name.entry.capabilities : customModel?.capabilities
        // A model not built yet neither has nor lacks anything.
        let has = { (c: ModelEntry.Capabilities) in capabilities?.contains(c) == true }
        let lacks = { (c: ModelEntry.Capabilities) in capabilities.map { !$0.contains(c) } == true }
        if data.task == .regression {
            v.require(
                !lacks(.regression), modelKey, modelValue,
                "a model that regresses with data.task regression: "
                    + ModelRegistry.names(with: .regression).joined(separator: ", "))
        }
        // A regression measures its errors, a classifier its classes: a watched metric must be one of them.
        let measured: Set<MetricName> =
            data.task == .regression
            ? [.loss, .mae, .mse, .rmse, .r2] : Set(MetricName.allCases).subtracting([.mae, .mse, .rmse, .r2])
        for (key, metric) in [
            ("training.early_stopping.metric", training.earlyStopping?.metric),
            ("schedule.plateau.metric", schedule.name == .plateau ? schedule.plateau.metric : nil),
            ("checkpointing.best_metric", checkpointing.bestMetric),
        ] {
            guard let metric, !measured.contains(metric) else { continue }
            v.require(
                false, key, metric,
                "one of " + MetricName.allCases.filter(measured.contains).map(\.rawValue).joined(separator: ", ")
                    + " with data.task \(data.task)")
        }
        if has(.alternatingUpdates) {
            // Alternating updates take one batch each; the loss scaler would need one scale per player.
            v.require(
                distributed.gradientAccumulation == 1, "distributed.gradient_accumulation",
                distributed.gradientAccumulation,
                "1 for \(modelValue) (each step alternates the two players on one batch)")
            v.require(
                !precision.scaling.on, "precision.mode", precision.mode,
                "fp32 or bf16 for \(modelValue) (no loss scaling)")
        }
        if lacks(.classifier) {
            // Their evaluation measures the loss only.
            if let e = training.earlyStopping {
                v.require(e.metric == .loss, "training.early_stopping.metric", e.metric, "loss for \(modelValue)")
            }
            if schedule.name == .plateau {
                v.require(
                    schedule.plateau.metric == .loss, "schedule.plateau.metric", schedule.plateau.metric,
                    "loss for \(modelValue)")
            }
        }
        validateDeterminism(&v, modelKey: modelKey, modelValue: modelValue, batchNorm: has(.batchNorm))
        training.validate(&v)
        optimizer.validate(&v)
        schedule.validate(&v)
        clipping.validate(&v)
        precision.validate(&v)
        distributed.validate(&v)
        checkpointing.validate(&v)
        logging.validate(&v)
        pruning.validate(&v)
        // The pruner zeroes weights by its masks, frozen ones included.
        v.require(
            training.freeze.isEmpty || !pruning.enabled, "training.freeze", training.freeze,
            "[] with pruning (pruning.method \(pruning.method) changes the weights freezing keeps fixed)")
        distillation.validate(&v)
        if distillation.teacher != nil {
            v.require(
                !lacks(.classifier), modelKey, modelValue,
                "a classifier for distillation (\(ModelRegistry.names(with: .classifier).joined(separator: ", ")))")
        }
        return v.problems
    }

    /// A registered model reads only the data its entry names.
    func validateReads(_ v: inout ConfigValidator) {
        let entry = model.name.entry
        if !entry.reads.contains(data.dataKey) {
            func described(_ key: String) -> String {
                key == "fashion_mnist/raw"
                    ? "fashion_mnist with data.normalize false"
                    : key.replacingOccurrences(of: "/", with: " with data.targets ")
            }
            v.require(
                false, "model.name", model.name,
                "data.name \(ListFormatter.either(entry.reads.map(described))) for \(model.name) "
                    + "(the config has data.name \(described(data.dataKey)))")
        }
    }

    /// - Parameters:
    ///   - modelKey, modelValue: how messages name the model.
    ///   - batchNorm: whether the model has batch norm.
    func validateDeterminism(_ v: inout ConfigValidator, modelKey: String, modelValue: Any, batchNorm: Bool) {
        let d = distributed
        guard deterministic else {
            v.require(
                d.microShards == nil, "distributed.micro_shards", d.microShards, "null unless deterministic: true")
            return
        }
        v.require(
            !d.shardOptimizer, "distributed.shard_optimizer", d.shardOptimizer,
            "false with deterministic: true (each rank sums its shard's part of the gradient norm, so the norm's "
                + "rounding would depend on the world size; fixed-point gradients already arrive whole on every rank)")
        v.require(
            d.microShards.map { $0 >= 1 } ?? false, "distributed.micro_shards", d.microShards,
            "a positive number with deterministic: true (the global batch is data.batch_size x micro_shards; "
                + "any world size that divides micro_shards gives the same bits)")
        v.require(
            d.gradientAccumulation == 1, "distributed.gradient_accumulation", d.gradientAccumulation,
            "1 with deterministic: true (each rank already accumulates micro_shards / world shards)")
        v.require(
            d.wire == .fp32, "distributed.wire", d.wire,
            "fp32 with deterministic: true (gradients travel as 64-bit fixed point)")
        v.require(
            !batchNorm, modelKey, modelValue,
            "a model without batch norm with deterministic: true (batch-norm running statistics are per rank): "
                + ModelRegistry.entries.filter { !$0.capabilities.contains(.batchNorm) }.map(\.name).joined(
                    separator: ", "))
    }

    /// A config with every optional section present, so every key the schema knows appears
    /// when it is encoded (the list of allowed keys comes from it).
    static var schemaTemplate: TrainConfig {
        var t = TrainConfig()
        t.data.limit = 0
        (t.data.path, t.data.train, t.data.validation, t.data.test, t.data.target) = ("", "", "", "", [])
        (t.data.inputs, t.data.labels, t.data.testInputs, t.data.testLabels) = ("", "", "", "")
        (t.data.imageSize, t.data.channels, t.data.vocabSize, t.data.windowsPerEpoch) = ([0], 0, 0, 0)
        t.data.augment = ImageAugmentation(randomResizedCrop: .init())
        t.model.channels = [0]
        t.model.scoreClassifier = ""
        t.model.initFrom = ""
        t.pruning.endStep = 0
        t.distillation.teacher = ""
        t.logging.histogramsEverySteps = 0
        t.training.maxSteps = 0
        t.training.maxEvalSamples = 0
        t.training.unfreezeAtEpoch = 0
        t.training.earlyStopping = EarlyStoppingConfig()
        t.optimizer.lr = 0
        t.optimizer.weightDecay = 0
        t.schedule.referenceBatch = 0
        t.clipping.maxNorm = 0
        t.clipping.value = 0
        t.distributed.threadsPerRank = 0
        t.distributed.stallAbortSeconds = 0
        t.distributed.microShards = 0
        t.checkpointing.everySteps = 0
        t.checkpointing.everyMinutes = 0
        return t
    }
}
