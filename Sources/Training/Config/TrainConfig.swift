/// A training run's whole configuration, as `configs/*.yaml` holds it.
///
/// Every key has a default, so a file states only what differs; `ConfigLoader` rejects
/// unknown keys, wrong types and out-of-range values with the key path, and the resolved
/// configuration (defaults filled in) is written to the run directory.
public struct TrainConfig: Codable, Equatable, Sendable {
    public var seed = 0
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

    public init() {}

    /// Every problem with the values, or nil.
    public func problems() -> [String] {
        var v = ConfigValidator()
        v.require(seed >= 0, "seed", seed, "a non-negative integer")
        model.validate(&v)
        data.validate(&v)
        if ["rnn", "lstm", "gru"].contains(model.name) || data.name == "memory" {
            v.require(["rnn", "lstm", "gru"].contains(model.name) && data.name == "memory", "model.name", model.name,
                      "rnn, lstm or gru go with data.name memory, and memory with them")
        }
        if model.name == "transformer" || data.name == "seq2seq" {
            v.require(model.name == "transformer" && data.name == "seq2seq", "model.name", model.name,
                      "transformer goes with data.name seq2seq, and seq2seq with it")
        }
        let languageModels = ["char_mlp": "last", "gpt": "every"]
        if let targets = languageModels[model.name] ?? (data.name == "shakespeare_char" ? "" : nil) {
            v.require(data.name == "shakespeare_char" && data.targets == targets, "model.name", model.name,
                      "char_mlp goes with data.name shakespeare_char and data.targets last, gpt with shakespeare_char and "
                      + "data.targets every, and the image models with fashion_mnist or synthetic")
        }
        training.validate(&v)
        optimizer.validate(&v)
        schedule.validate(&v)
        clipping.validate(&v)
        precision.validate(&v)
        distributed.validate(&v)
        checkpointing.validate(&v)
        logging.validate(&v)
        return v.problems
    }

    /// A config with every optional section present, so every key the schema knows appears
    /// when it is encoded (the list of allowed keys comes from it).
    static var schemaTemplate: TrainConfig {
        var t = TrainConfig()
        t.data.limit = 0
        t.model.channels = [0]
        t.training.maxSteps = 0
        t.training.maxEvalSamples = 0
        t.training.earlyStopping = EarlyStoppingConfig()
        t.optimizer.lr = 0
        t.optimizer.weightDecay = 0
        t.schedule.referenceBatch = 0
        t.clipping.maxNorm = 0
        t.clipping.value = 0
        t.distributed.threadsPerRank = 0
        t.checkpointing.everySteps = 0
        t.checkpointing.everyMinutes = 0
        return t
    }
}
