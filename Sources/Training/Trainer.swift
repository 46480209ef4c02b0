import CSupport
import Checkpoint
import Collective
import Datasets
import Foundation
import Logging
import Models
import NN
import Optim

/// The training loop of one rank: data-parallel steps with gradient accumulation, clipping,
/// the optimizer and its schedule, periodic evaluation, early stopping, and rank 0's outputs.
///
/// Every rank runs the same loop on its shard of each global batch. Anything that changes
/// control flow (a non-finite gradient norm, early stopping, the end of the run) is decided
/// from values that are identical on every rank, so all ranks take the same branch.
public final class Trainer {
    public let config: TrainConfig
    public let communicator: Communicator
    public let data: DataSplits
    public let model: any TrainableModel
    /// The registered model's `model.name` and `data.name`, or the type names of a model and a
    /// training split built in code (for the log).
    public let modelName: String, dataName: String
    /// How the training split divides into steps on this world.
    let plan: StepPlan
    /// The pruning masks and their schedule (`pruning:`; nil without pruning).
    public let pruner: Pruner?
    let outputs: RunOutputs?
    let logger: Logger
    /// Where training stands: optimizer steps taken, the epoch in progress and the samples of
    /// its global order already trained on (what a checkpoint records).
    public internal(set) var step = 0, epoch = 0, positionInEpoch = 0
    var stopping: EarlyStopping?
    /// The checkpoint this run resumed from (nil for a fresh start), and how the run's position
    /// and batch were mapped onto this world (for the terminal and the log).
    public private(set) var resumedFrom: String?
    var resumeNote = ""
    /// The optimizer step, the checkpoints, the evaluations and the samples of the run.
    let update: UpdateStep
    let checkpointPolicy: CheckpointPolicy
    let evaluation: EvaluationPass
    let samples: RunSamples

    public var ddp: DistributedDataParallel { update.ddp }
    public var optimizer: Optimizer { update.optimizer }
    public var scheduler: LearningRateScheduler { update.scheduler }
    public var sampler: DistributedSampler { plan.sampler }
    /// The fp16 loss scaler (nil without loss scaling).
    public var scaler: LossScaler? { update.scaler }
    /// Steps whose update was skipped (fp16 overflows, or non-finite gradients with `nonfinite: skip`).
    public var skippedSteps: Int { update.skippedSteps }
    /// Optimizer steps per epoch, and in the whole run from its start (a resumed run included).
    public var stepsPerEpoch: Int { plan.stepsPerEpoch }
    public var totalSteps: Int { plan.totalSteps }
    /// Samples per optimizer step over all ranks: batch_size × ranks × gradient_accumulation.
    public var globalBatch: Int { plan.globalBatch }
    /// Micro-batches per optimizer step on this rank: gradient_accumulation, or in
    /// deterministic mode micro_shards / world.
    public var microBatchesPerStep: Int { plan.microBatchesPerStep }
    /// Rank 0's checkpoint writer (nil elsewhere, or with checkpointing off).
    var checkpoints: CheckpointWriter? { checkpointPolicy.writer }

    /// The trainer of both paths, once the data and the model exist.
    /// - Parameters:
    ///   - names: how the log names the model and the data.
    ///   - custom: the model was built in code (config.yaml says so).
    init(
        config: TrainConfig, model: any TrainableModel, data: DataSplits, names: (model: String, data: String),
        custom: Bool,
        runDirectory: String?, communicator: Communicator, resume: ResumeSource?, metrics: [any EvaluationMetric]
    ) throws {
        var config = config  // a resume on another world size may change the per-rank batch and accumulation
        self.communicator = communicator
        let isRoot = communicator.rank == 0
        (self.data, self.model, modelName, dataName) = (data, model, names.model, names.data)
        try Self.check(metrics, for: model)
        try Self.check(config, builtModel: model)
        try ParameterFreezing.check(config, model: model)
        pruner = config.pruning.enabled ? try Pruner(config: config.pruning, model: model) : nil
        let train = data.train, student = config
        let distillation = try config.distillation.teacher.map { _ in
            try Distillation(config: student.distillation, student: student, data: train)
        }
        outputs = try runDirectory.flatMap {
            isRoot
                ? try RunOutputs(
                    directory: $0, config: config, resuming: resume != nil, customModel: custom ? names.model : nil)
                : nil
        }
        let logger = TrainerSetup.logger(config: config, outputs: outputs, communicator: communicator)
        self.logger = logger
        try outputs?.record(data)
        for file in data.skipped?.all ?? [] { logger.warning("skipped \(file) (data.skip_bad_files)") }
        let keepLast = config.checkpointing.keepLast
        let writer =
            config.checkpointing.enabled
            ? outputs.map {
                CheckpointWriter(directory: $0.checkpointDirectory, keepLast: keepLast, logger: logger)
            } : nil
        checkpointPolicy = CheckpointPolicy(settings: config.checkpointing, writer: writer, outputs: outputs)

        try TrainerSetup.loadInitialWeights(model, config: config.model, communicator: communicator, logger: logger)
        // Rank 0 reads the checkpoint into its model before DDP broadcasts rank 0's weights.
        var point: ResumePoint?
        if let resume {
            point = try ResumePoint.agree(
                on: resume, runDirectory: runDirectory, config: config, model: model,
                communicator: communicator, logger: logger)
        }
        if let point {
            if !config.deterministic {
                config = try Self.keepGlobalBatch(of: point.manifest, in: config, ranks: communicator.size)
                outputs?.rewriteConfig(config)
            }
            // The steps after the checkpoint are trained again: their old lines go.
            if let removed = try outputs?.metrics.rewind(toStep: point.manifest.step), removed > 0 {
                logger.notice(
                    """
                    metrics.jsonl: removed \(removed) lines of steps after \(point.manifest.step), \
                    which are trained again
                    """)
            }
        }
        self.config = config
        let arena = ParameterFreezing(config: config.training).arena(for: model, resumed: point?.manifest)
        let ddp = TrainerSetup.dataParallel(
            config: config, model: model, arena: arena, communicator: communicator,
            logger: logger)
        let optimizer = OptimizerFactory.optimizer(config.optimizer, arena: arena, model: model)
        ddp.shard(optimizer)
        let scorer = try config.model.scoreClassifier.map { try ClassifierScore(runDirectory: $0, data: train) }
        evaluation = EvaluationPass(
            config: config, communicator: communicator, model: model, scorer: scorer,
            classNames: data.classNames, metrics: metrics, outputs: outputs, logger: logger)
        samples = RunSamples(outputs: outputs, model: model, data: data, seed: config.seed, logger: logger)
        plan = try StepPlan(
            config: config, trainCount: data.train.count, communicator: communicator, arena: arena,
            resumed: point?.manifest)
        let scheduler = OptimizerFactory.scheduler(
            config.schedule, baseLR: config.optimizer.resolvedLR,
            globalBatch: plan.globalBatch, totalSteps: plan.totalSteps)
        update = UpdateStep(
            config: config, communicator: communicator, model: model, ddp: ddp, optimizer: optimizer,
            scheduler: scheduler, fixedPoint: plan.fixedPoint, distillation: distillation,
            pruner: pruner, logger: logger, checkpoints: checkpointPolicy, samples: samples)
        pruner?.plan(totalSteps: plan.totalSteps)
        stopping = config.training.earlyStopping.map {
            EarlyStopping(minimize: $0.mode == .min, patience: $0.patience, minDelta: $0.minDelta)
        }
        if let point {
            try apply(point)
            resumedFrom = point.name
            resumeNote = describeResume(point.manifest)
            logger.notice("\(resumeNote)")
        }
        logger.info("\(TrainerSetup.description(of: self))")
    }

    /// Trains to the end (epochs, max_steps or early stopping), then evaluates the test split.
    public func run() throws -> TrainResult {
        let c = config
        defer { outputs?.lock.release() }  // the directory is free for the next job as soon as the run ends
        let progress =
            communicator.rank == 0
            ? ProgressReporter(setting: c.logging.progress, totalSteps: totalSteps, epochs: c.training.epochs) : nil
        if resumedFrom != nil { progress?.message(resumeNote) }
        var stoppedEarly = false, stopSignal: Int32?
        checkpointPolicy.startClock()
        while epoch < c.training.epochs && step < totalSteps && !stoppedEarly {
            unfreezeIfDue()
            let loader = BatchLoader(
                dataset: data.training(epoch: epoch, seed: c.seed),
                indices: sampler.indices(epoch: epoch, from: positionInEpoch),
                batchSize: c.data.batchSize, prefetch: c.data.prefetch)
            model.train()
            var epochDone = false
            while step < totalSteps {
                var micro: [Batch] = []
                // A sample that cannot be read (a damaged image) ends the run with its file named.
                while micro.count < microBatchesPerStep, let b = try loader.nextBatch() { micro.append(b) }
                if micro.isEmpty { epochDone = true; break }
                let lr = scheduler.currentLR
                if let pruner, let target = pruner.update(step: step) {
                    logger.info(
                        """
                        pruning before step \(step + 1): target sparsity \(String(format: "%.3f", target)), \
                        by parameter: \(pruner.report)
                        """)
                }
                let norm = try update.run(micro, step: step, epoch: epoch)
                step += 1
                positionInEpoch += micro.reduce(0) { $0 + $1.count } * communicator.size
                if loader.position == loader.batchCount { epochDone = true }
                if step % c.logging.everySteps == 0 || step == totalSteps { logStep(lr: lr, norm: norm, progress) }
                // A stop signal on any rank stops every rank here, and a checkpoint is due by time
                // when any rank's clock says so: both agreed by one allreduce, since every rank
                // takes part in a checkpoint (a sharded optimizer's state is gathered for it).
                let dueByTime = checkpointPolicy.dueByTime
                let agreed = communicator.allreduce([Double(tandem_stop_signal()), dueByTime ? 1 : 0], op: .max)
                if agreed[0] > 0 {
                    stopSignal = Int32(agreed[0])
                    if epochDone { epoch += 1; positionInEpoch = 0 }
                    break
                }
                if epochDone { break }
                if checkpointPolicy.isDue(afterStep: step, dueByTimeOnAnyRank: agreed[1] > 0) {
                    checkpointPolicy.save(self)
                }
            }
            guard epochDone, stopSignal == nil else { break }  // max_steps or a signal ended the run mid-epoch
            epoch += 1
            positionInEpoch = 0
            if epoch % c.training.evalEveryEpochs == 0 || step >= totalSteps || epoch == c.training.epochs {
                stoppedEarly = validateEpoch(progress)
            }
            samples.write(epoch: epoch, step: step)
            if c.checkpointing.atEpochEnd { checkpointPolicy.save(self) }
        }
        if stopSignal == nil && !stoppedEarly && evaluation.validatedAtStep != step {
            // max_steps ended the run inside an epoch: validate where it stopped.
            let m = evaluation.validate(data.validation, step: step, epoch: epoch, position: position)
            progress?.message(EvaluationPass.summary(m, split: "validation", position: position))
            checkpointPolicy.keepIfBest(m, self)
        }
        if samples.lastStep != step { samples.write(epoch: epoch + 1, step: step) }  // max_steps ended inside epoch + 1
        if checkpointPolicy.lastStep != step { checkpointPolicy.save(self) }  // the run's end is always resumable
        if let stopSignal { return stop(by: stopSignal, progress) }
        return try finish(stoppedEarly: stoppedEarly, progress)
    }

    /// Logs the metrics window's loss and throughput, with the step's learning rate and gradient
    /// norm, to metrics.jsonl, the log and the progress line.
    private func logStep(lr: Double, norm: Double, _ progress: ProgressReporter?) {
        let partLosses = update.window.partMeans(over: communicator)
        let (loss, samplesPerSecond, stepMs) = update.window.close(over: communicator)
        var line: [String: Any] = [
            "step": step, "epoch": epoch, "loss": loss, "lr": lr, "grad_norm": norm,
            "samples_per_s": samplesPerSecond, "step_ms": stepMs,
        ]
        line.merge(partLosses) { a, _ in a }
        if let scaler {
            line["loss_scale"] = scaler.scale
            line["overflows"] = scaler.overflows
        }
        if scaler != nil || config.training.nonfinite == .skip { line["skipped_steps"] = skippedSteps }
        if let pruner { line["sparsity"] = pruner.sparsity }
        outputs?.record(line)
        progress?.update(
            epoch: epoch, step: step, loss: loss, samplesPerSecond: samplesPerSecond,
            lossScale: scaler?.scale, skipped: skippedSteps)
        let scaling = scaler.map { " loss_scale \($0.scale) overflows \($0.overflows)" } ?? ""
        logger.info(
            """
            step \(step) epoch \(epoch + 1) loss \(loss) lr \(lr) grad_norm \(norm) \
            samples/s \(Int(samplesPerSecond))\(scaling)
            """)
    }

    /// The validation at an epoch's end, and what it decides: the plateau schedule, early
    /// stopping and the best checkpoint.
    /// - Returns: whether early stopping ends the run.
    private func validateEpoch(_ progress: ProgressReporter?) -> Bool {
        let c = config
        let m = evaluation.validate(data.validation, step: step, epoch: epoch - 1, position: position)
        progress?.message(EvaluationPass.summary(m, split: "validation", position: position))
        var stop = false
        // Both decisions use reduced metrics, identical on every rank, so all ranks agree.
        if let p = c.schedule.name == .plateau ? c.schedule.plateau : nil,
            scheduler.observe(validationMetric: m.value(of: p.metric))
        {
            logger.info("validation \(p.metric) stopped improving: learning rate lowered to \(scheduler.currentLR)")
        }
        if let e = c.training.earlyStopping, stopping!.shouldStop(after: m.value(of: e.metric)) {
            logger.info(
                """
                early stopping after epoch \(epoch): validation \(e.metric) did not improve for \
                \(e.patience) evaluations
                """)
            progress?.message("early stopping: validation \(e.metric) did not improve for \(e.patience) evaluations")
            stop = true
        }
        checkpointPolicy.keepIfBest(m, self)
        return stop
    }
}
