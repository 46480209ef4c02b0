import Checkpoint
import Collective
import Foundation
import Logging
import Models
import NN
import Optim
import TensorCore
import Yams

/// Where `--resume` takes a run from.
public enum ResumeSource: Equatable, Sendable {
    /// The newest whole checkpoint in the run directory; a fresh start if there is none.
    case auto
    /// A checkpoint folder, a run directory, or its `checkpoints` folder.
    case path(String)

    /// `auto` or a path, as the command line gives it.
    public init(_ text: String) { self = text == "auto" ? .auto : .path(text) }
}

/// A checkpoint every rank has agreed to resume from.
///
/// Rank 0 alone reads the disk: it finds the newest whole checkpoint (reporting and skipping
/// damaged ones), checks it against the model and config, and loads the weights into its
/// model, which `DistributedDataParallel` then broadcasts. The manifest and the optimizer
/// state reach the other ranks by broadcast, so no rank needs the run directory but rank 0.
public struct ResumePoint {
    public static let modelFile = "model.safetensors", optimizerFile = "optimizer.safetensors",
        masksFile = "masks.safetensors"

    let name: String
    let manifest: CheckpointManifest
    /// The tensors of every file but the model's (optimizer state, pruning masks), by file and name.
    let state: [String: [String: NDArray]]
    var optimizerState: [String: NDArray] { state[Self.optimizerFile] ?? [:] }

    /// Every rank calls this; rank 0 reads, all ranks get the same answer (or the same error).
    /// - Returns: nil for `.auto` when the run has no checkpoint yet (a fresh start).
    static func agree(
        on source: ResumeSource, runDirectory: String?, config: TrainConfig, model: any Module,
        communicator: Communicator, logger: Logger
    ) throws -> ResumePoint? {
        var local: (name: String, manifest: CheckpointManifest, state: [String: [String: NDArray]])?
        var message = ""
        if communicator.rank == 0 {
            do {
                local = try read(source, runDirectory: runDirectory, config: config, model: model, logger: logger)
                message =
                    try local.map {
                        "OK\t\($0.name)\t" + String(decoding: try JSONEncoder().encode($0.manifest), as: UTF8.self)
                    } ?? "NONE"
            } catch {
                message = "ERROR\t\(error)"
            }
        }
        let answer = communicator.allgather(message)[0]
        let parts = answer.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        switch parts[0] {
        case "NONE": return nil
        case "ERROR": throw CheckpointError(parts.count > 1 ? parts[1] : "resume failed on rank 0")
        default: break
        }
        let manifest = try JSONDecoder().decode(CheckpointManifest.self, from: Data(parts[2].utf8))
        // The optimizer state and masks, in file and name order, from rank 0 to everyone.
        var state: [String: [String: NDArray]] = [:]
        for record in manifest.tensors.filter({ $0.file != modelFile }).sorted(by: {
            ($0.file, $0.name) < ($1.file, $1.name)
        }) {
            let array =
                local?.state[record.file]?[record.name]
                ?? NDArray(shape: Shape(record.shape), dtype: DType(rawValue: record.dtype) ?? .float32)
            communicator.broadcast(array, root: 0)
            state[record.file, default: [:]][record.name] = array
        }
        return ResumePoint(name: parts[1], manifest: manifest, state: state)
    }

    /// Rank 0: locate, verify, check and load.
    static func read(
        _ source: ResumeSource, runDirectory: String?, config: TrainConfig, model: any Module,
        logger: Logger
    ) throws -> (name: String, manifest: CheckpointManifest, state: [String: [String: NDArray]])? {
        guard let (folder, manifest) = try locate(source, runDirectory: runDirectory, logger: logger) else {
            return nil
        }
        // A checkpoint from before PyTorch names reads under the current ones.
        let weights = ModelWeights.current(
            try SafeTensors.decode(
                Data(contentsOf: URL(fileURLWithPath: folder + "/" + modelFile)), name: folder + "/" + modelFile
            ).tensors, for: model)
        let targets =
            model.namedParameters().map { ($0.0, $0.1.data) } + model.namedBuffers().map { ($0.0, $0.1.value) }
        var differences: [String] = []
        for (tensorName, array) in targets {
            guard let stored = weights[tensorName] else {
                differences.append("\(tensorName) \(array.shape.dims): not in the checkpoint"); continue
            }
            if stored.shape != array.shape {
                differences.append("\(tensorName): checkpoint \(stored.shape.dims), model \(array.shape.dims)")
            }
        }
        let known = Set(targets.map(\.0))
        differences += weights.keys.filter { !known.contains($0) }.sorted().map {
            "\($0): in the checkpoint, not in the model"
        }
        guard differences.isEmpty else {
            throw CheckpointError(
                "\(folder) was saved from a different model; these tensors differ:\n  "
                    + differences.joined(separator: "\n  "))
        }
        // Same tensors: a model option without tensors of its own (dropout) may still differ.
        try checkConfig(manifest, against: config, folder: folder, logger: logger)
        for (tensorName, array) in targets { array.assign(weights[tensorName]!) }
        var state: [String: [String: NDArray]] = [:]
        for file in Set(manifest.tensors.map(\.file)).subtracting([modelFile]).sorted() {
            state[file] = try SafeTensors.decode(
                Data(contentsOf: URL(fileURLWithPath: folder + "/" + file)), name: folder + "/" + file
            ).tensors
        }
        logger.info(
            "resuming from \(folder): step \(manifest.step), epoch \(manifest.epoch + 1), \(manifest.positionInEpoch) samples into it"
        )
        return (folder, manifest, state)
    }

    /// Finds and verifies the checkpoint `source` names: a folder itself, or the newest whole one
    /// of a run directory or checkpoints folder (damaged newer ones are reported and skipped).
    /// - Returns: the folder and its manifest; nil for `.auto` when there is no checkpoint yet.
    public static func locate(_ source: ResumeSource, runDirectory: String?, logger: Logger? = nil) throws
        -> (folder: String, manifest: CheckpointManifest)?
    {
        let store: CheckpointStore, only: String?
        switch source {
        case .auto:
            guard let runDirectory else { throw CheckpointError("--resume auto needs a run directory (--run-dir)") }
            (store, only) = (CheckpointStore(directory: runDirectory + "/checkpoints"), nil)
        case .path(let p):
            let path = (p as NSString).expandingTildeInPath
            if FileManager.default.fileExists(atPath: path + "/" + CheckpointStore.manifestName) {
                (store, only) = (
                    CheckpointStore(directory: (path as NSString).deletingLastPathComponent),
                    (path as NSString).lastPathComponent
                )
            } else if FileManager.default.fileExists(atPath: path + "/checkpoints") {
                (store, only) = (CheckpointStore(directory: path + "/checkpoints"), nil)
            } else if FileManager.default.fileExists(atPath: path) {
                (store, only) = (CheckpointStore(directory: path), nil)
            } else {
                throw CheckpointError("\(p): no such checkpoint, run directory or checkpoints folder")
            }
        }
        let name: String, manifestData: Data
        if let only {
            name = only
            manifestData = try store.verify(only)
        } else {
            let (found, skipped) = store.newestValid()
            // The log handler echoes warnings to standard error; without a logger, say it there.
            for problem in skipped {
                if let logger { logger.warning("\(problem)") } else { report(problem) }
            }
            guard let found else {
                if store.candidates().isEmpty && source == .auto {
                    logger?.info("no checkpoint in \(store.directory) yet: starting from the beginning")
                    return nil
                }
                throw CheckpointError("no whole checkpoint in \(store.directory) (\(skipped.count) damaged)")
            }
            (name, manifestData) = found
        }
        let folder = store.directory + "/" + name
        let manifest: CheckpointManifest
        do { manifest = try JSONDecoder().decode(CheckpointManifest.self, from: manifestData) } catch {
            throw CheckpointError(
                "\(folder)/\(CheckpointStore.manifestName) does not describe a Tandem checkpoint: \(error)")
        }
        guard manifest.formatVersion == CheckpointManifest.currentFormat else {
            throw CheckpointError(
                "\(folder) has checkpoint format \(manifest.formatVersion); this build reads \(CheckpointManifest.currentFormat)"
            )
        }
        return (folder, manifest)
    }

    /// Model changes are errors; other changes (epochs, schedule, logging, ...) are reported.
    static func checkConfig(_ manifest: CheckpointManifest, against config: TrainConfig, folder: String, logger: Logger)
        throws
    {
        // Read back, not judged: the model may be one built in code, which the registry's checks do not know.
        guard
            let saved = try? ConfigLoader.parse(
                yaml: manifest.config, source: folder + "/manifest.json", customModel: true)
        else {
            report("the checkpoint's config could not be read back; it is not compared with this run's")
            return
        }
        if saved.model != config.model {
            throw CheckpointError(
                "\(folder) was saved with a different model config (model: \(saved.model.name) "
                    + "\(saved.model.hiddenSizes), now \(config.model.name) \(config.model.hiddenSizes)); resume with the run's own config.yaml"
            )
        }
        if saved.optimizer.name != config.optimizer.name {
            throw CheckpointError(
                "\(folder) holds \(saved.optimizer.name) state; this config uses \(config.optimizer.name)")
        }
        // The optimizer state covers the parameters that trained when it was saved.
        func training(_ c: TrainConfig) -> [String] {
            let f = ParameterFreezing(config: c.training)
            return f.isFrozen(epoch: manifest.epoch, position: manifest.positionInEpoch) ? f.prefixes : []
        }
        if training(saved) != training(config) {
            throw CheckpointError(
                "\(folder) was saved with \(training(saved)) frozen (training.freeze), where this config freezes "
                    + "\(training(config)); its optimizer state fits only those settings: resume with the run's own "
                    + "training.freeze and training.unfreeze_at_epoch, or start a new run with model.init_from")
        }
        let sections: [(String, Bool)] = [
            ("data", saved.data != config.data), ("training", saved.training != config.training),
            ("optimizer", saved.optimizer != config.optimizer), ("schedule", saved.schedule != config.schedule),
            ("clipping", saved.clipping != config.clipping), ("precision", saved.precision != config.precision),
            ("distributed", saved.distributed != config.distributed),
            ("checkpointing", saved.checkpointing != config.checkpointing),
            ("logging", saved.logging != config.logging), ("seed", saved.seed != config.seed),
        ]
        let changed = sections.filter(\.1).map(\.0)
        if !changed.isEmpty {
            let text = "resuming with changed settings since the checkpoint: \(changed.joined(separator: ", "))"
            logger.notice("\(text)")
            report(text)
        }
    }

    /// A line on standard error (rank 0), so resume decisions are visible without the log.
    static func report(_ text: String) { FileHandle.standardError.write(Data("tandem: \(text)\n".utf8)) }
}

extension Trainer {
    /// Restores the state a resume point carries (every rank; the weights came by broadcast).
    func apply(_ point: ResumePoint) throws {
        let m = point.manifest
        (step, epoch, positionInEpoch) = (m.step, m.epoch, m.positionInEpoch)
        checkpointPolicy.lastStep = m.step  // the checkpoint just read is the last good one
        for (streamName, owner) in model.namedRandomStreams() {
            if let saved = m.rngStates[streamName] { owner.rng = saved }
        }
        scheduler.stepCount = m.scheduleStep
        if scheduler.plateau != nil, let plateau = m.plateau { scheduler.plateau = plateau }
        if update.scaler != nil, let saved = m.lossScaler { update.scaler = saved }
        if stopping != nil, let saved = m.earlyStopping { stopping = saved }
        (update.skippedSteps, checkpointPolicy.bestMetric) = (m.skippedSteps, m.bestMetric)
        try optimizer.load(state: point.optimizerState)
        if let pruner {
            // A checkpoint from before pruning started has no masks: the schedule makes them.
            if let masks = point.state[ResumePoint.masksFile] {
                try pruner.load(masks: masks, target: m.pruningSparsity ?? 0)
            }
        }
        if let saved = m.logWindow {
            update.window.restore(saved, rank: communicator.rank, worldSize: communicator.size)
        }
    }

    /// The config with the per-rank batch or accumulation changed so that the global batch is
    /// the checkpoint's on `ranks` ranks (`distributed.keep_global_batch`), or as it is when the
    /// global batch already matches or may change.
    static func keepGlobalBatch(of m: CheckpointManifest, in config: TrainConfig, ranks: Int) throws -> TrainConfig {
        let savedAccumulation =
            m.microBatchesPerStep
            ?? (try? ConfigLoader.parse(yaml: m.config, customModel: true))?.distributed.gradientAccumulation
            ?? config.distributed.gradientAccumulation
        let saved = BatchLayout(batchSize: m.perRankBatch, ranks: m.worldSize, accumulation: savedAccumulation)
        let target = m.globalBatch ?? saved.globalBatch
        let configured = BatchLayout(
            batchSize: config.data.batchSize, ranks: ranks, accumulation: config.distributed.gradientAccumulation)
        guard configured.globalBatch != target, config.distributed.keepGlobalBatch else { return config }
        guard let layout = BatchLayout.keeping(target, from: configured) else {
            let sizes = BatchLayout.worldSizes(dividing: target).map(String.init)
            let listed =
                sizes.count > 1 ? sizes.dropLast().joined(separator: ", ") + " or " + sizes.last! : sizes.joined()
            throw ConfigError(
                "the checkpoint's global batch is \(target) (\(saved)), which does not divide over \(ranks) ranks; "
                    + "resume on \(listed) ranks to keep it, or let it change with --set distributed.keep_global_batch=false "
                    + "(the schedule still ends at its last step, over steps of the new size)")
        }
        var config = config
        (config.data.batchSize, config.distributed.gradientAccumulation) = (layout.batchSize, layout.accumulation)
        return config
    }

    /// How a checkpoint's position and batch map onto this run, in one line.
    func describeResume(_ m: CheckpointManifest) -> String {
        let savedAccumulation = m.microBatchesPerStep ?? config.distributed.gradientAccumulation
        let saved = BatchLayout(batchSize: m.perRankBatch, ranks: m.worldSize, accumulation: savedAccumulation)
        let now = BatchLayout(
            batchSize: config.data.batchSize, ranks: communicator.size, accumulation: microBatchesPerStep)
        let epochs = config.training.epochs
        var text =
            "resumed from \(resumedFrom ?? "a checkpoint") at step \(m.step), epoch \(min(m.epoch + 1, epochs)) of \(epochs)"
            + " (\(m.positionInEpoch) of \(sampler.samplesPerRank * communicator.size) samples into it)"
        if saved != now {
            text += "; written by \(saved), now \(now)"
            if (m.globalBatch ?? saved.globalBatch) != now.globalBatch {
                text += " (the global batch changed: distributed.keep_global_batch is false)"
            }
        }
        return text + "; \(totalSteps - m.step) steps to go, \(totalSteps) in all"
    }
}
