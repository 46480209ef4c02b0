import Logging
import TensorCore

/// `training:` how long to train, what to evaluate, and when to stop early.
public struct TrainingConfig: Codable, Equatable, Sendable {
    public var epochs = 10
    /// Stop after this many optimizer steps (null: run all epochs).
    public var maxSteps: Int?
    /// Evaluate on the validation split every this many epochs.
    public var evalEveryEpochs = 1
    /// Cross-entropy label smoothing (as PyTorch's `label_smoothing`).
    public var labelSmoothing = 0.0
    /// Report top-k accuracy with this k (when there are more than k classes).
    public var topK = 5
    /// Evaluate on at most this many samples of each split (null: all of them).
    public var maxEvalSamples: Int?
    /// Evaluate the test split at the end (the validation split when the dataset has no test split).
    public var testAtEnd = true
    /// Early stopping on a validation metric (null: off).
    public var earlyStopping: EarlyStoppingConfig?
    /// error or skip: what a non-finite gradient norm (or loss) does when no loss scaler
    /// handles it (fp32, bf16). With a loss scaler such steps are overflows: skipped, and the
    /// scale backs off.
    public var nonfinite = NonfiniteAction.error
    /// Parameter name prefixes to keep fixed: no gradient, no allreduce, no optimizer state.
    public var freeze: [String] = []
    /// Gradual unfreezing: the frozen parameters join training at the start of this epoch
    /// (counted from 1), with a fresh optimizer; null: frozen to the end.
    public var unfreezeAtEpoch: Int?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case epochs
        case maxSteps = "max_steps", evalEveryEpochs = "eval_every_epochs", labelSmoothing = "label_smoothing"
        case maxEvalSamples = "max_eval_samples"
        case topK = "top_k", testAtEnd = "test_at_end", earlyStopping = "early_stopping", nonfinite
        case freeze, unfreezeAtEpoch = "unfreeze_at_epoch"
    }

    func validate(_ v: inout ConfigValidator) {
        v.require(epochs >= 1, "training.epochs", epochs, "a positive number of epochs")
        v.require(
            maxSteps.map { $0 >= 1 } ?? true, "training.max_steps", maxSteps, "null or a positive number of steps")
        v.require(evalEveryEpochs >= 1, "training.eval_every_epochs", evalEveryEpochs, "a positive number of epochs")
        v.require(
            labelSmoothing >= 0 && labelSmoothing < 1, "training.label_smoothing", labelSmoothing,
            "0 <= label_smoothing < 1")
        v.require(
            maxEvalSamples.map { $0 >= 1 } ?? true, "training.max_eval_samples", maxEvalSamples,
            "null or a positive number")
        v.require(topK >= 1, "training.top_k", topK, "a positive integer")
        v.atMost(epochs, "training.epochs", ConfigLimits.epochs, "epochs")
        v.atMost(maxSteps, "training.max_steps", ConfigLimits.count, "steps")
        v.atMost(evalEveryEpochs, "training.eval_every_epochs", ConfigLimits.epochs, "epochs")
        v.atMost(topK, "training.top_k", ConfigLimits.count, "classes")
        v.atMost(maxEvalSamples, "training.max_eval_samples", ConfigLimits.count, "samples")
        earlyStopping?.validate(&v)
        v.require(
            freeze.allSatisfy { !$0.isEmpty }, "training.freeze", freeze, "a list of non-empty parameter name prefixes")
        if let at = unfreezeAtEpoch {
            v.require(
                !freeze.isEmpty, "training.unfreeze_at_epoch", at,
                "null without training.freeze (there is nothing to unfreeze)")
            v.require(
                at >= 2 && at <= epochs, "training.unfreeze_at_epoch", at,
                "an epoch from 2 to training.epochs (\(epochs)), counted from 1")
        }
    }

}

/// `training.nonfinite`: what a non-finite gradient norm does without a loss scaler.
public enum NonfiniteAction: String, ConfigChoice {
    /// Stop the run with a message.
    case error
    /// Skip the step and count it.
    case skip
}

/// `training.early_stopping:` stop when a validation metric has not improved for `patience` evaluations.
public struct EarlyStoppingConfig: Codable, Equatable, Sendable {
    public var metric = MetricName.loss
    /// min (lower is better) or max.
    public var mode = MetricMode.min
    public var patience = 3
    /// The smallest change that counts as an improvement.
    public var minDelta = 0.0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case metric, mode, patience
        case minDelta = "min_delta"
    }

    func validate(_ v: inout ConfigValidator) {
        v.require(patience >= 1, "training.early_stopping.patience", patience, "a positive number of evaluations")
        v.require(minDelta >= 0, "training.early_stopping.min_delta", minDelta, "a non-negative number")
        v.atMost(patience, "training.early_stopping.patience", ConfigLimits.count, "evaluations")
    }
}

/// `precision.mode` and `distributed.wire`: 32-bit floats, or IEEE half or bfloat16.
public enum FloatFormat: String, ConfigChoice {
    case fp32, fp16, bf16

    /// The tensor element type.
    public var dtype: DType {
        switch self {
        case .fp32: return .float32
        case .fp16: return .float16
        case .bf16: return .bfloat16
        }
    }
}

/// `precision.loss_scale`: how the loss is scaled before backward.
public enum LossScaleMode: String, ConfigChoice {
    /// Dynamic for fp16, none otherwise.
    case auto
    /// GradScaler's rules: grow every growth_interval clean steps, back off on an overflow.
    case dynamic
    /// initial_scale throughout.
    case `static`
    case none
}

/// `precision:` the number format of forward and backward, and loss scaling.
public struct PrecisionConfig: Codable, Equatable, Sendable {
    /// fp32, or fp16/bf16 mixed precision: fp32 master weights and optimizer state, forward and
    /// backward on the weights rounded to 16 bits, with 16-bit activations.
    public var mode = FloatFormat.fp32
    /// auto (dynamic for fp16, none otherwise), dynamic, static or none.
    public var lossScale = LossScaleMode.auto
    /// GradScaler's settings; `initial_scale` is also the static scale.
    public var initialScale = 65536.0
    public var growthFactor = 2.0
    public var backoffFactor = 0.5
    public var growthInterval = 2000
    /// Overflows absorbed before the scale backs off (1: PyTorch; DeepSpeed uses 2).
    public var hysteresis = 1
    /// The scale never backs off below this (DeepSpeed's min_loss_scale).
    public var minScale = 1.0
    /// Overflowing steps in a row at the minimum scale before the run stops as diverged.
    public var maxOverflowsAtMinScale = 10

    public init() {}

    enum CodingKeys: String, CodingKey {
        case mode, hysteresis
        case lossScale = "loss_scale", initialScale = "initial_scale", growthFactor = "growth_factor"
        case backoffFactor = "backoff_factor", growthInterval = "growth_interval", minScale = "min_scale"
        case maxOverflowsAtMinScale = "max_overflows_at_min_scale"
    }

    /// The 16-bit compute type, or float32.
    public var computeType: DType { mode.dtype }

    /// Whether the loss is scaled, and dynamically.
    public var scaling: (on: Bool, dynamic: Bool) {
        switch lossScale {
        case .dynamic: return (true, true)
        case .static: return (true, false)
        case .none: return (false, false)
        case .auto: return (mode == .fp16, true)
        }
    }

    func validate(_ v: inout ConfigValidator) {
        v.require(
            initialScale > 0 && initialScale.isFinite, "precision.initial_scale", initialScale, "a positive number")
        v.require(growthFactor > 1, "precision.growth_factor", growthFactor, "a number above 1")
        v.require(
            backoffFactor > 0 && backoffFactor < 1, "precision.backoff_factor", backoffFactor, "0 < backoff_factor < 1")
        v.require(growthInterval >= 1, "precision.growth_interval", growthInterval, "a positive number of steps")
        v.require(hysteresis >= 1, "precision.hysteresis", hysteresis, "a positive number of overflows")
        v.require(
            minScale > 0 && minScale <= initialScale, "precision.min_scale", minScale, "0 < min_scale <= initial_scale")
        v.require(
            maxOverflowsAtMinScale >= 1, "precision.max_overflows_at_min_scale", maxOverflowsAtMinScale,
            "a positive number")
        v.atMost(growthInterval, "precision.growth_interval", ConfigLimits.count, "steps")
        v.atMost(hysteresis, "precision.hysteresis", ConfigLimits.count, "overflows")
        v.atMost(maxOverflowsAtMinScale, "precision.max_overflows_at_min_scale", ConfigLimits.count, "steps")
    }
}

/// `distributed:` data parallelism over the ranks.
public struct DistributedConfig: Codable, Equatable, Sendable {
    /// Gradient bucket size in MiB (DDP's bucket_cap_mb), and the first bucket's.
    public var bucketMB = 25.0
    public var firstBucketMB = 1.0
    /// Micro-batches per optimizer step; gradients are averaged over ranks only on the last one.
    public var gradientAccumulation = 1
    /// fp32, fp16 or bf16: the format gradients travel in (the sum is done in fp32).
    public var wire = FloatFormat.fp32
    /// Compute threads per rank (null: cores on the node / ranks on the node, or TANDEM_NUM_THREADS).
    public var threadsPerRank: Int?
    /// Seconds a rank may wait in one collective before the ranks that have not arrived are
    /// named (Horovod's HOROVOD_STALL_CHECK_TIME_SECONDS); 0 turns the check off.
    public var stallWarningSeconds = 60.0
    /// Seconds of such a stall after which the job is ended (HOROVOD_STALL_SHUTDOWN_TIME_SECONDS; null: never).
    public var stallAbortSeconds: Double?
    /// Seconds MPI_Init, the communicators' setup and the first collectives may take before the
    /// job is ended with a message (null: no limit).
    public var startupTimeoutSeconds: Double? = 300
    /// Deterministic mode: micro-shards of data.batch_size samples per step over all ranks.
    public var microShards: Int?
    /// Shard the optimizer over the ranks (ZeRO stage 1): gradients are reduce-scattered, each
    /// rank updates its block, and the parameters are allgathered.
    public var shardOptimizer = false
    /// Sum gradients through memory every rank maps, when all ranks run on one node (unsharded,
    /// fp32 wire); false sends them through MPI_Allreduce as across nodes.
    public var sharedMemory = true
    /// A run resumed on another number of ranks keeps its global batch, by changing the per-rank
    /// batch or the accumulation (false: both stay as configured and the global batch changes).
    public var keepGlobalBatch = true

    public init() {}

    enum CodingKeys: String, CodingKey {
        case wire
        case sharedMemory = "shared_memory"
        case microShards = "micro_shards"
        case stallWarningSeconds = "stall_warning_seconds", stallAbortSeconds = "stall_abort_seconds"
        case startupTimeoutSeconds = "startup_timeout_seconds"
        case bucketMB = "bucket_mb", firstBucketMB = "first_bucket_mb", gradientAccumulation = "gradient_accumulation"
        case threadsPerRank = "threads_per_rank"
        case shardOptimizer = "shard_optimizer"
        case keepGlobalBatch = "keep_global_batch"
    }

    func validate(_ v: inout ConfigValidator) {
        v.require(bucketMB > 0 && bucketMB <= 1024, "distributed.bucket_mb", bucketMB, "0 < MiB <= 1024")
        v.require(
            firstBucketMB > 0 && firstBucketMB <= 1024, "distributed.first_bucket_mb", firstBucketMB, "0 < MiB <= 1024")
        v.require(
            gradientAccumulation >= 1, "distributed.gradient_accumulation", gradientAccumulation,
            "a positive number of micro-batches")
        v.require(
            threadsPerRank.map { $0 >= 1 && $0 <= 256 } ?? true, "distributed.threads_per_rank", threadsPerRank,
            "null or 1-256")
        v.require(
            stallWarningSeconds >= 0, "distributed.stall_warning_seconds", stallWarningSeconds,
            "0 (off) or a number of seconds")
        v.require(
            stallAbortSeconds.map { $0 > 0 && stallWarningSeconds > 0 && $0 >= stallWarningSeconds } ?? true,
            "distributed.stall_abort_seconds",
            stallAbortSeconds, "null, or seconds no shorter than distributed.stall_warning_seconds (which must be on)")
        v.require(
            startupTimeoutSeconds.map { $0 >= 1 && $0 <= 86_400 } ?? true, "distributed.startup_timeout_seconds",
            startupTimeoutSeconds, "null (no limit) or 1 to 86400 seconds")
        v.atMost(gradientAccumulation, "distributed.gradient_accumulation", ConfigLimits.batch, "micro-batches")
        v.atMost(microShards, "distributed.micro_shards", ConfigLimits.batch, "micro-shards")
        v.atMost(stallWarningSeconds, "distributed.stall_warning_seconds", ConfigLimits.seconds, "seconds")
        v.atMost(stallAbortSeconds, "distributed.stall_abort_seconds", ConfigLimits.seconds, "seconds")
    }
}

/// `checkpointing:` what rank 0 writes into the run directory.
public struct CheckpointingConfig: Codable, Equatable, Sendable {
    /// Write the trained weights to `model.safetensors` at the end (what `tandem eval` reads).
    public var saveFinalModel = true
    /// Write resumable checkpoints into `checkpoints/` (the triggers below).
    public var enabled = true
    /// Every this many optimizer steps (null: off).
    public var everySteps: Int?
    /// Every this many minutes of training (null: off).
    public var everyMinutes: Double?
    /// At the end of every epoch.
    public var atEpochEnd = true
    /// Checkpoints of the sequence kept (older ones are deleted).
    public var keepLast = 3
    /// Also keep the checkpoint with the best validation metric, in `checkpoints/best`.
    public var keepBest = false
    /// The metric and direction that decide "best".
    public var bestMetric = MetricName.loss
    public var bestMode = MetricMode.min

    public init() {}

    enum CodingKeys: String, CodingKey {
        case enabled
        case saveFinalModel = "save_final_model", everySteps = "every_steps", everyMinutes = "every_minutes"
        case atEpochEnd = "at_epoch_end", keepLast = "keep_last", keepBest = "keep_best", bestMetric = "best_metric"
        case bestMode = "best_mode"
    }

    func validate(_ v: inout ConfigValidator) {
        v.require(
            everySteps.map { $0 >= 1 } ?? true, "checkpointing.every_steps", everySteps,
            "null or a positive number of steps")
        v.require(
            everyMinutes.map { $0 > 0 } ?? true, "checkpointing.every_minutes", everyMinutes,
            "null or a positive number")
        v.require(keepLast >= 1, "checkpointing.keep_last", keepLast, "at least 1")
        v.atMost(everySteps, "checkpointing.every_steps", ConfigLimits.count, "steps")
        v.atMost(everyMinutes, "checkpointing.every_minutes", ConfigLimits.seconds / 60, "minutes")
        v.atMost(keepLast, "checkpointing.keep_last", ConfigLimits.count, "checkpoints")
    }
}

/// `logging.progress`: how rank 0 shows progress.
public enum ProgressStyle: String, ConfigChoice {
    /// A bar on a terminal, plain lines otherwise.
    case auto
    case bar, plain, none
}

/// `logging.level` and `logging.other_ranks_level`: swift-log's levels.
public enum LogLevel: String, ConfigChoice {
    case trace, debug, info, notice, warning, error

    /// The swift-log level.
    public var logger: Logger.Level { Logger.Level(rawValue: rawValue)! }
}

/// `logging:` what rank 0 reports and how often.
public struct LoggingConfig: Codable, Equatable, Sendable {
    /// Write a `metrics.jsonl` line (and a progress update) every this many optimizer steps.
    public var everySteps = 20
    /// auto (a bar on a terminal, plain lines otherwise), bar, plain or none.
    public var progress = ProgressStyle.auto
    /// trace, debug, info, notice, warning or error: the least severe line rank 0 logs.
    public var level = LogLevel.info
    /// The least severe line the other ranks log (to standard error; only rank 0 writes the file).
    public var otherRanksLevel = LogLevel.warning
    /// Rank 0 also writes every metrics.jsonl number as a TensorBoard scalar (events.out.tfevents.*).
    public var tensorboard = true
    /// TensorBoard histograms of every parameter and gradient every this many steps (null: none).
    public var histogramsEverySteps: Int?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case progress, level, tensorboard
        case otherRanksLevel = "other_ranks_level", histogramsEverySteps = "histograms_every_steps"
        case everySteps = "every_steps"
    }

    func validate(_ v: inout ConfigValidator) {
        v.require(everySteps >= 1, "logging.every_steps", everySteps, "a positive number of steps")
        v.require(
            histogramsEverySteps.map { $0 >= 1 } ?? true, "logging.histograms_every_steps", histogramsEverySteps,
            "null or a positive number of steps")
        v.atMost(everySteps, "logging.every_steps", ConfigLimits.count, "steps")
        v.atMost(histogramsEverySteps, "logging.histograms_every_steps", ConfigLimits.count, "steps")
    }
}
