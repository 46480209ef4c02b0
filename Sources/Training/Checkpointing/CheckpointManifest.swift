import Checkpoint
import Optim
import TensorCore

/// Everything a checkpoint records besides its tensors (`manifest.json`).
///
/// Positions are kept in samples of the epoch's global order rather than in steps per rank,
/// so a run resumes on any number of ranks. docs/CHECKPOINTS.md describes every field.
public struct CheckpointManifest: Codable, Equatable {
    public static let currentFormat = 1

    /// One tensor of a data file.
    public struct TensorRecord: Codable, Equatable {
        public let name: String
        public let file: String
        public let shape: [Int]
        public let dtype: String
    }

    public var formatVersion = CheckpointManifest.currentFormat
    /// Optimizer steps taken; training resumes with step `step` + 1.
    public var step = 0
    /// The epoch in progress (0-based) and the samples of its global order already trained on.
    public var epoch = 0
    public var positionInEpoch = 0
    /// The sampler's seed (the shuffle of epoch e uses seed + e).
    public var samplerSeed: UInt64 = 0
    /// Random streams of the modules that draw during training (dropout), by dotted name.
    public var rngStates: [String: PhiloxRNG] = [:]
    /// The learning-rate scheduler's step count and reduce-on-plateau state.
    public var scheduleStep = 0
    public var plateau: ReduceLROnPlateau?
    /// The fp16 loss scaler's state (scale, growth tracker, hysteresis, counts).
    public var lossScaler: LossScaler?
    public var earlyStopping: EarlyStopping?
    public var skippedSteps = 0
    /// The sparsity the pruning masks (masks.safetensors) were last computed for; nil without pruning.
    public var pruningSparsity: Double?
    /// The best validation metric so far (for `keep_best`) and the last validation metrics.
    public var bestMetric: Double?
    public var validation: [String: Double] = [:]
    /// The resolved config (YAML) and its hash.
    public var config = ""
    public var configHash = ""
    public var worldSize = 1
    public var perRankBatch = 1
    /// Micro-batches per step on each rank, and samples per optimizer step over all ranks
    /// (nil in checkpoints written before they were recorded: derived from the config).
    public var microBatchesPerStep: Int?
    public var globalBatch: Int?
    /// The logging window in progress (nil in older checkpoints).
    var logWindow: LogWindow.State?
    public var tensors: [TensorRecord] = []
    /// Size and CRC-32 of every data file.
    public var files: [String: FileRecord] = [:]

    public init() {}

    enum CodingKeys: String, CodingKey {
        case step, epoch, plateau, config, tensors, files, validation
        case formatVersion = "format_version", positionInEpoch = "position_in_epoch", samplerSeed = "sampler_seed"
        case rngStates = "rng_states", scheduleStep = "schedule_step", lossScaler = "loss_scaler"
        case earlyStopping = "early_stopping", skippedSteps = "skipped_steps", bestMetric = "best_metric",
            pruningSparsity = "pruning_sparsity"
        case configHash = "config_hash", worldSize = "world_size", perRankBatch = "per_rank_batch"
        case microBatchesPerStep = "micro_batches_per_step", globalBatch = "global_batch"
        case logWindow = "log_window"
    }
}
