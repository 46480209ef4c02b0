import Checkpoint
import Collective
import Foundation
import NN
import TensorCore

/// When the run checkpoints (every N steps, every M minutes, at an epoch's end), what a
/// checkpoint holds, and which one is kept aside as `best`.
///
/// Every rank takes part in a checkpoint (a sharded optimizer's state and the metrics window
/// are gathered for it); rank 0 alone writes it, on its writer's background queue.
final class CheckpointPolicy {
    let settings: CheckpointingConfig
    /// Rank 0's writer (nil on other ranks, without a run directory, or with checkpointing off).
    let writer: CheckpointWriter?
    let outputs: RunOutputs?
    /// The step of the last checkpoint (-1: none yet), and when it was taken.
    var lastStep = -1
    private var lastTime = Date()
    /// The best validation value of `checkpointing.best_metric` so far.
    var bestMetric: Double?

    /// - Parameters:
    ///   - settings: the `checkpointing:` section.
    ///   - writer: rank 0's writer, if it writes.
    ///   - outputs: rank 0's run directory, named in error messages.
    init(settings: CheckpointingConfig, writer: CheckpointWriter?, outputs: RunOutputs?) {
        self.settings = settings
        self.writer = writer
        self.outputs = outputs
    }

    /// Starts the clock of `checkpointing.every_minutes` (at the start of the loop).
    func startClock() { lastTime = Date() }

    /// Whether this rank's clock says a checkpoint is due by time (the ranks then agree by allreduce).
    var dueByTime: Bool { settings.everyMinutes.map { Date().timeIntervalSince(lastTime) >= $0 * 60 } ?? false }

    /// Whether a checkpoint is due after `step`: by step count, or by time on any rank.
    func isDue(afterStep step: Int, dueByTimeOnAnyRank: Bool) -> Bool {
        if let every = settings.everySteps, step % every == 0 { return true }
        return dueByTimeOnAnyRank
    }

    /// Every rank snapshots the training state; rank 0 queues it for writing (the other
    /// ranks' state is the same, and they never touch the run directory).
    func save(_ trainer: Trainer) {
        let optimizerState = trainer.ddp.gatherState(of: trainer.optimizer)
        let windowState = trainer.update.window.state(over: trainer.communicator)
        lastStep = trainer.step
        lastTime = Date()
        guard let writer else { return }
        writer.write(
            snapshot(trainer, optimizerState: optimizerState, window: windowState),
            name: CheckpointStore.name(step: trainer.step))
    }

    /// After a validation pass: keep the checkpoint with the best metric aside, as `best`.
    func keepIfBest(_ m: EvaluationMetrics, _ trainer: Trainer) {
        let value = m.value(of: settings.bestMetric)
        guard value.isFinite else { return }
        let better = bestMetric.map { settings.bestMode.improves(value, on: $0) } ?? true
        guard better else { return }
        bestMetric = value
        guard settings.keepBest else { return }
        let optimizerState = trainer.ddp.gatherState(of: trainer.optimizer)
        let windowState = trainer.update.window.state(over: trainer.communicator)
        if let writer {
            writer.write(
                snapshot(trainer, optimizerState: optimizerState, window: windowState), name: "best",
                sequence: false)
        }
    }

    /// Copies of everything a checkpoint holds, taken now (between steps).
    /// - Parameters:
    ///   - optimizerState: `ddp.gatherState(of: optimizer)`, which every rank computes.
    ///   - window: `window.state(over:)`, likewise.
    func snapshot(_ t: Trainer, optimizerState: [String: NDArray], window: LogWindow.State) -> CheckpointSnapshot {
        let update = t.update, config = t.config, model = t.model
        var m = CheckpointManifest()
        (m.step, m.epoch, m.positionInEpoch, m.samplerSeed) = (t.step, t.epoch, t.positionInEpoch, t.sampler.seed)
        m.rngStates = Dictionary(uniqueKeysWithValues: model.namedRandomStreams().map { ($0.0, $0.1.rng) })
        let scheduler = update.scheduler
        (m.scheduleStep, m.plateau, m.lossScaler) = (scheduler.stepCount, scheduler.plateau, update.scaler)
        (m.earlyStopping, m.skippedSteps, m.bestMetric) = (t.stopping, update.skippedSteps, bestMetric)
        m.pruningSparsity = t.pruner?.currentTarget
        if let v = t.evaluation.lastValidation {
            // Metrics the evaluation skipped (ROC-AUC over too many scores) are NaN, which JSON cannot hold.
            m.validation = Dictionary(
                uniqueKeysWithValues: MetricName.allCases.map { ($0.rawValue, v.value(of: $0)) }.filter {
                    $0.1.isFinite
                })
        }
        m.config = (try? ConfigLoader.yaml(config)) ?? ""
        m.configHash = ConfigLoader.hash(config)
        (m.worldSize, m.perRankBatch) = (t.communicator.size, config.data.batchSize)
        (m.microBatchesPerStep, m.globalBatch, m.logWindow) = (t.microBatchesPerStep, t.globalBatch, window)
        let modelTensors =
            model.namedParameters().map { ($0.0, $0.1.data.copy()) }
            + model.namedBuffers().map { ($0.0, $0.1.value.copy()) }
        let optimizerTensors = optimizerState.sorted { $0.key < $1.key }.map { ($0.key, $0.value.copy()) }
        var files = [ResumePoint.modelFile: modelTensors, ResumePoint.optimizerFile: optimizerTensors]
        if let pruner = t.pruner { files[ResumePoint.masksFile] = pruner.maskTensors }
        m.tensors = files.sorted { $0.key < $1.key }.flatMap { file, tensors in
            tensors.map {
                CheckpointManifest.TensorRecord(name: $0.0, file: file, shape: $0.1.shape.dims, dtype: "\($0.1.dtype)")
            }
        }
        return CheckpointSnapshot(manifest: m, files: files)
    }

    /// Where the last good weights are, for error messages.
    var lastGoodHint: String {
        guard let outputs, lastStep >= 0 else {
            return outputs.map { " (run directory \($0.directory), no checkpoint yet)" } ?? ""
        }
        return "; the last checkpoint is step \(lastStep) in \(outputs.checkpointDirectory) (continue from it with "
            + "`tandem resume \(outputs.directory)` after changing the settings)"
    }
}
