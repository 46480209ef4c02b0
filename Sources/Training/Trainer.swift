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
    /// The model as a GAN, when it is one: its steps alternate two updates.
    let adversarial: (any AdversarialModel)?
    public let ddp: DistributedDataParallel
    public let optimizer: Optimizer
    public let scheduler: LearningRateScheduler
    public let sampler: DistributedSampler
    /// The fp16 loss scaler (nil without loss scaling).
    public internal(set) var scaler: LossScaler?
    /// The last step whose update was applied (for the divergence message).
    private var lastGoodStep = 0
    /// Steps whose update was skipped (fp16 overflows, or non-finite gradients with `nonfinite: skip`).
    public internal(set) var skippedSteps = 0
    /// Optimizer steps per epoch, and in the whole run from its start (a resumed run included).
    public let stepsPerEpoch: Int, totalSteps: Int
    /// Samples per optimizer step over all ranks: batch_size × ranks × gradient_accumulation.
    public let globalBatch: Int
    let outputs: RunOutputs?
    let logger: Logger
    /// Where training stands: optimizer steps taken, the epoch in progress and the samples of
    /// its global order already trained on (what a checkpoint records).
    public internal(set) var step = 0, epoch = 0, positionInEpoch = 0
    var stopping: EarlyStopping?
    var bestMetric: Double?
    var lastValidation: EvaluationMetrics?
    let checkpoints: CheckpointWriter?
    /// The checkpoint this run resumed from (nil for a fresh start), and how the run's position
    /// and batch were mapped onto this world (for the terminal and the log).
    public private(set) var resumedFrom: String?
    var resumeNote = ""
    /// The loss and throughput since the last logged step (restored from a checkpoint on resume).
    var window = LogWindow()
    private var lastCheckpointTime = Date()
    var lastCheckpointStep = -1
    private var validatedAtStep = -1
    /// The step of the last image grids and text samples.
    var lastSamplesStep = -1
    /// Time this step waited for gradient communication after backward (both players' in a GAN).
    var stepExposedSeconds = 0.0
    /// Scores a generative model's images with a trained classifier (`model.score_classifier`).
    let scorer: ClassifierScore?
    /// Micro-batches per optimizer step on this rank: gradient_accumulation, or in
    /// deterministic mode micro_shards / world.
    public let microBatchesPerStep: Int
    /// Deterministic mode's exact sum of the micro-shard gradients (nil otherwise).
    let fixedPoint: FixedPointReducer?
    /// The model's random streams (dropout, noise), re-keyed per micro-shard in deterministic mode.
    let randomStreams: [any RandomStreamOwner]
    /// The pruning masks and their schedule (`pruning:`; nil without pruning).
    public let pruner: Pruner?
    /// The teacher and its loss (`distillation:`; nil without a teacher).
    let distillation: Distillation?

    /// Loads the data, builds the model and checks that every rank agrees.
    /// - Parameters:
    ///   - config: the resolved configuration.
    ///   - runDirectory: where rank 0 writes config.yaml, metrics.jsonl, train.log and the model
    ///     (nil: write nothing, as in tests of the loop itself).
    ///   - communicator: the world.
    ///   - resume: a checkpoint to continue from (`.auto`: the newest whole one in the run
    ///     directory, or a fresh start when there is none).
    public init(config: TrainConfig, runDirectory: String?, communicator: Communicator, resume: ResumeSource? = nil) throws {
        var config = config  // a resume on another world size may change the per-rank batch and accumulation
        self.communicator = communicator
        ThreadPool.configure(threads: config.distributed.threadsPerRank ?? ThreadPool.defaultThreadCount())
        let isRoot = communicator.rank == 0
        // Data and model first: a run that cannot start leaves no run directory behind.
        data = try DataSplits.load(config.data, seed: config.seed)
        model = try ModelFactory.make(config.model, for: data.train, seed: config.seed)
        adversarial = model as? any AdversarialModel
        let arena = model.flattenParameters()
        pruner = config.pruning.enabled ? try Pruner(config: config.pruning, model: model) : nil
        let train = data.train
        distillation = try config.distillation.teacher.map { _ in try Distillation(config: config.distillation, student: config, data: train) }
        outputs = try runDirectory.flatMap { isRoot ? try RunOutputs(directory: $0, config: config, resuming: resume != nil) : nil }
        // Rank 0 logs at logging.level; the others only what they must say (warnings by default).
        let level = Logger.Level(rawValue: isRoot ? config.logging.level : config.logging.otherRanksLevel) ?? .info
        let logPath = outputs?.logPath, rank = communicator.rank
        let logger = Logger(label: "tandem") { FileLogHandler(label: $0, path: logPath, level: level, rank: rank) }
        self.logger = logger
        for note in outputs?.notes ?? [] { logger.warning("\(note)") }
        if config.distributed.stallWarningSeconds > 0, let mpi = communicator as? MPICommunicator,
           !mpi.inspectStalls(warnAfter: config.distributed.stallWarningSeconds, abortAfter: config.distributed.stallAbortSeconds,
                              report: { logger.warning("\($0)") }), mpi.size > 1 {
            logger.warning("stalled collectives cannot be reported: MPI did not grant MPI_THREAD_MULTIPLE")
        }
        checkpoints = config.checkpointing.enabled ? outputs.map {
            CheckpointWriter(directory: $0.checkpointDirectory, keepLast: config.checkpointing.keepLast, logger: logger)
        } : nil

        if let source = config.model.initFrom { try Self.loadInitialWeights(model, from: source, communicator: communicator) }
        // Rank 0 reads the checkpoint into its model before DDP broadcasts rank 0's weights.
        var point: ResumePoint?
        if let resume {
            point = try ResumePoint.agree(on: resume, runDirectory: runDirectory, config: config, model: model, arena: arena,
                                          communicator: communicator, logger: logger)
        }
        if let point {
            if !config.deterministic {
                config = try Self.keepGlobalBatch(of: point.manifest, in: config, ranks: communicator.size)
                outputs?.rewriteConfig(config)
            }
            // The steps after the checkpoint are trained again: their old lines go.
            if let removed = try outputs?.metrics.rewind(toStep: point.manifest.step), removed > 0 {
                logger.notice("metrics.jsonl: removed \(removed) lines of steps after \(point.manifest.step), which are trained again")
            }
        }
        self.config = config
        let d = config.distributed
        ddp = DistributedDataParallel(model: model, arena: arena, communicator: communicator, configHash: ConfigLoader.hash(config),
                                      bucketBytes: Int(d.bucketMB * 1_048_576), firstBucketBytes: Int(d.firstBucketMB * 1_048_576),
                                      wire: ["fp16": .float16, "bf16": .bfloat16][d.wire] ?? .float32, shardOptimizer: d.shardOptimizer,
                                      sharedMemory: d.sharedMemory)
        // The weights' broadcast and the ranks' checks were the last collectives of the start.
        (communicator as? MPICommunicator)?.startupFinished()
        if let why = ddp.sharedMemoryUnavailable {
            logger.warning("gradients go through MPI: shared memory failed (\(why)); set distributed.shared_memory: false to skip the attempt")
        }
        optimizer = OptimizerFactory.optimizer(config.optimizer, arena: arena, model: model)
        ddp.shard(optimizer)
        scorer = try config.model.scoreClassifier.map { try ClassifierScore(runDirectory: $0, data: train) }
        randomStreams = model.namedRandomStreams().map(\.1)
        if config.deterministic, let shards = d.microShards {
            guard shards % communicator.size == 0 else {
                let sizes = (1...shards).filter { shards % $0 == 0 }.map(String.init).joined(separator: ", ")
                throw TrainingError("deterministic: true splits each step into distributed.micro_shards \(shards) shards, which do not "
                    + "divide over \(communicator.size) ranks; run on \(sizes) ranks, or change micro_shards (which changes the results)")
            }
            microBatchesPerStep = shards / communicator.size
            fixedPoint = FixedPointReducer(communicator: communicator, arena: arena, globalShards: shards, localShards: microBatchesPerStep)
            ThreadPool.fixedPartitions = true
        } else {
            microBatchesPerStep = d.gradientAccumulation
            fixedPoint = nil
        }
        sampler = DistributedSampler(count: data.train.count, rank: communicator.rank, worldSize: communicator.size,
                                     shuffle: config.data.shuffle, seed: UInt64(config.seed), dropLast: config.data.dropLast,
                                     microShards: fixedPoint.map { (config.data.batchSize, $0.globalShards) })
        let microBatches = (sampler.samplesPerRank + config.data.batchSize - 1) / config.data.batchSize
        stepsPerEpoch = (microBatches + microBatchesPerStep - 1) / microBatchesPerStep
        globalBatch = config.data.batchSize * communicator.size * microBatchesPerStep
        if globalBatch > data.train.count && !config.data.allowBatchLargerThanDataset {
            throw ConfigError("one global batch (\(BatchLayout(batchSize: config.data.batchSize, ranks: communicator.size, accumulation: microBatchesPerStep))) "
                + "holds more samples than the \(data.train.count) of the training split, so every step would repeat samples; "
                + "lower data.batch_size or the number of ranks, or set data.allow_batch_larger_than_dataset: true")
        }
        let batch = config.data.batchSize, perStep = microBatchesPerStep, epochs = config.training.epochs
        func steps(forSamplesPerRank n: Int) -> Int { ((n + batch - 1) / batch + perStep - 1) / perStep }
        // The plan counts from where the run stands: the steps taken, the rest of this epoch in
        // this world's layout, then whole epochs, so a resume on another world size trains
        // exactly what is left (saturating: a count too large to train is never reached).
        var planned = Self.saturating(stepsPerEpoch, times: epochs)
        if let m = point?.manifest {
            let rest = m.epoch < epochs ? steps(forSamplesPerRank: sampler.remainingPerRank(from: m.positionInEpoch)) : 0
            planned = Self.saturating(m.step + rest, plus: Self.saturating(stepsPerEpoch, times: max(epochs - m.epoch - 1, 0)))
        }
        totalSteps = min(config.training.maxSteps ?? .max, planned)
        let p = config.precision
        if p.scaling.on {
            scaler = LossScaler(initialScale: p.initialScale, dynamic: p.scaling.dynamic, growthFactor: p.growthFactor,
                                backoffFactor: p.backoffFactor, growthInterval: p.growthInterval, hysteresis: p.hysteresis,
                                minScale: p.minScale)
        }
        scheduler = OptimizerFactory.scheduler(config.schedule, baseLR: config.optimizer.resolvedLR, globalBatch: globalBatch,
                                               totalSteps: totalSteps)
        pruner?.plan(totalSteps: totalSteps)
        stopping = config.training.earlyStopping.map { EarlyStopping(minimize: $0.mode == "min", patience: $0.patience, minDelta: $0.minDelta) }
        if let point {
            try apply(point)
            resumedFrom = point.name
            resumeNote = describeResume(point.manifest)
            logger.notice("\(resumeNote)")
        }
        logger.info("""
            model \(config.model.name): \(arena.parameterCount) parameters; data \(config.data.name): \(data.train.count) train, \
            \(data.validation.count) validation, \(data.test?.count ?? 0) test samples; \(communicator.size) ranks x \
            \(ThreadPool.shared.threadCount) threads\(ddp.sharded ? " (optimizer sharded)" : "")\(ddp.reducer.sharedMemory != nil ? " (gradients through shared memory)" : ""); precision \(p.mode)\(scaler.map { ", loss scale \($0.scale)\($0.dynamic ? " (dynamic)" : "")" } ?? ""); \
            global batch \(globalBatch)\(fixedPoint.map { " (deterministic: \($0.globalShards) micro-shards of \(config.data.batchSize))" } ?? ""); \
            \(stepsPerEpoch) steps per epoch; \
            no weight decay on: \(optimizer.groups.undecayed.joined(separator: ", "))
            """)
    }

    /// Trains to the end (epochs, max_steps or early stopping), then evaluates the test split.
    public func run() throws -> TrainResult {
        let c = config
        defer { outputs?.lock.release() }  // the directory is free for the next job as soon as the run ends
        let progress = communicator.rank == 0
            ? ProgressReporter(setting: c.logging.progress, totalSteps: totalSteps, epochs: c.training.epochs) : nil
        if resumedFrom != nil { progress?.message(resumeNote) }
        var stoppedEarly = false, stopSignal: Int32?
        lastCheckpointTime = Date()
        while epoch < c.training.epochs && step < totalSteps && !stoppedEarly {
            let loader = BatchLoader(dataset: data.train, indices: sampler.indices(epoch: epoch, from: positionInEpoch),
                                     batchSize: c.data.batchSize, prefetch: c.data.prefetch)
            model.train()
            var epochDone = false
            while step < totalSteps {
                var micro: [Batch] = []
                while micro.count < microBatchesPerStep, let b = loader.next() { micro.append(b) }
                if micro.isEmpty { epochDone = true; break }
                let lr = scheduler.currentLR
                if let pruner, let target = pruner.update(step: step) {
                    logger.info("pruning before step \(step + 1): target sparsity \(String(format: "%.3f", target)), by parameter: \(pruner.report)")
                }
                let norm = try adversarial.map { try adversarialStep(micro[0], $0, step: step, epoch: epoch) }
                    ?? optimizerStep(micro, step: step, epoch: epoch)
                step += 1
                positionInEpoch += micro.reduce(0) { $0 + $1.count } * communicator.size
                if loader.position == loader.batchCount { epochDone = true }
                if step % c.logging.everySteps == 0 || step == totalSteps {
                    let partLosses = window.partMeans(over: communicator)
                    let (loss, samplesPerSecond, stepMs) = window.close(over: communicator)
                    var line: [String: Any] = ["step": step, "epoch": epoch, "loss": loss, "lr": lr, "grad_norm": norm,
                                               "samples_per_s": samplesPerSecond, "step_ms": stepMs]
                    line.merge(partLosses) { a, _ in a }
                    if let scaler {
                        line["loss_scale"] = scaler.scale
                        line["overflows"] = scaler.overflows
                    }
                    if scaler != nil || c.training.nonfinite == "skip" { line["skipped_steps"] = skippedSteps }
                    if let pruner { line["sparsity"] = pruner.sparsity }
                    outputs?.record(line)
                    progress?.update(epoch: epoch, step: step, loss: loss, samplesPerSecond: samplesPerSecond,
                                     lossScale: scaler?.scale, skipped: skippedSteps)
                    let scaling = scaler.map { " loss_scale \($0.scale) overflows \($0.overflows)" } ?? ""
                    logger.info("step \(step) epoch \(epoch + 1) loss \(loss) lr \(lr) grad_norm \(norm) samples/s \(Int(samplesPerSecond))\(scaling)")
                }
                // A stop signal on any rank stops every rank here, and a checkpoint is due by time
                // when any rank's clock says so: both agreed by one allreduce, since every rank
                // takes part in a checkpoint (a sharded optimizer's state is gathered for it).
                let minutesDue = c.checkpointing.everyMinutes.map { Date().timeIntervalSince(lastCheckpointTime) >= $0 * 60 } ?? false
                let agreed = communicator.allreduce([Double(tandem_stop_signal()), minutesDue ? 1 : 0], op: .max)
                let signal = agreed[0]
                if signal > 0 {
                    stopSignal = Int32(signal)
                    if epochDone { epoch += 1; positionInEpoch = 0 }
                    break
                }
                if epochDone { break }
                if let every = c.checkpointing.everySteps, step % every == 0 { saveCheckpoint() }
                else if agreed[1] > 0 { saveCheckpoint() }
            }
            guard epochDone, stopSignal == nil else { break }  // max_steps or a signal ended the run mid-epoch
            epoch += 1
            positionInEpoch = 0
            if epoch % c.training.evalEveryEpochs == 0 || step >= totalSteps || epoch == c.training.epochs {
                let m = evaluate(data.validation, split: "validation", step: step, epoch: epoch - 1, detailed: false)
                progress?.message(summary(m, split: "validation"))
                lastValidation = m
                validatedAtStep = step
                // Both decisions use reduced metrics, identical on every rank, so all ranks agree.
                if let p = c.schedule.name == "plateau" ? c.schedule.plateau : nil, scheduler.observe(validationMetric: m.value(named: p.metric)) {
                    logger.info("validation \(p.metric) stopped improving: learning rate lowered to \(scheduler.currentLR)")
                }
                if let e = c.training.earlyStopping, stopping!.shouldStop(after: m.value(named: e.metric)) {
                    logger.info("early stopping after epoch \(epoch): validation \(e.metric) did not improve for \(e.patience) evaluations")
                    progress?.message("early stopping: validation \(e.metric) did not improve for \(e.patience) evaluations")
                    stoppedEarly = true
                }
                keepIfBest(m)
            }
            writeSamples(epoch: epoch)
            if c.checkpointing.atEpochEnd { saveCheckpoint() }
        }
        if stopSignal == nil && !stoppedEarly && validatedAtStep != step {
            // max_steps ended the run inside an epoch: validate where it stopped.
            let m = evaluate(data.validation, split: "validation", step: step, epoch: epoch, detailed: false)
            progress?.message(summary(m, split: "validation"))
            lastValidation = m
            keepIfBest(m)
        }
        if lastSamplesStep != step { writeSamples(epoch: epoch + 1) }  // max_steps ended the run inside epoch + 1
        if lastCheckpointStep != step { saveCheckpoint() }  // the run's end is always resumable
        if let stopSignal {
            checkpoints?.finish()
            logger.notice("stopped by signal \(stopSignal) at step \(step); the checkpoint is written")
            progress?.message("stopped by signal \(stopSignal) at step \(step), epoch \(epoch + 1); checkpoint written")
            ddp.shutdown()
            return TrainResult(runDirectory: outputs?.directory, steps: step, epochs: epoch, stoppedEarly: false, validation: lastValidation,
                               final: nil, finalSplit: "", stoppedBySignal: stopSignal)
        }
        var final: EvaluationMetrics?
        let finalSplit = data.test == nil ? "validation" : "test"
        if c.training.testAtEnd, let test = data.test {
            final = evaluate(test, split: finalSplit, step: step, epoch: epoch - 1, detailed: true)
            progress?.message(summary(final!, split: finalSplit))
        } else if c.training.testAtEnd {
            final = lastValidation  // the run ended with a validation pass; no need for a second one
        }
        checkpoints?.finish()  // the last checkpoint is on disk (or failed) before the model is written
        if let outputs, c.checkpointing.saveFinalModel { try writeFinalModel(to: outputs) }
        ddp.shutdown()
        return TrainResult(runDirectory: outputs?.directory, steps: step, epochs: epoch, stoppedEarly: stoppedEarly,
                           validation: lastValidation, final: final, finalSplit: finalSplit, stoppedBySignal: nil)
    }

    /// One optimizer step over `micro` micro-batches: forward and backward on each (averaging
    /// over ranks only on the last), then clipping and the update on the averaged gradients.
    ///
    /// In deterministic mode the micro-batches are this rank's micro-shards, and everything a
    /// shard's gradient depends on is the same whichever rank computes it: its samples (the
    /// sampler's shard layout), its shape, its random draws (every stream re-keyed by the
    /// shard's global index) and its backward seed (the loss scale; the mean's 1/shards comes
    /// after the exact sum over all ranks' shards, which replaces the fp32 bucket allreduce).
    /// - Returns: the global gradient norm before clipping (identical on every rank).
    func optimizerStep(_ micro: [Batch], step: Int, epoch: Int) throws -> Double {
        let c = config
        scheduler.apply(to: optimizer)
        // Backward starts from the loss scale, divided by the micro-batches for their mean.
        let seed = Float((scaler?.scale ?? 1) / Double(fixedPoint == nil ? micro.count : 1))
        // The first micro-batch's place in the run's global order (a shard index in deterministic mode).
        let first = (step * communicator.size + communicator.rank) * micro.count
        for (k, batch) in micro.enumerated() {
            if fixedPoint != nil {
                // 2^32 Philox counters per shard: far more than any model draws for one.
                for stream in randomStreams { stream.rng.offset = UInt64(first + k) << 32 }
            }
            ddp.synchronize = fixedPoint == nil && k == micro.count - 1
            let loss = withAutocast(c.precision.computeType) {
                guard let distillation, let student = model as? any Classifier else {
                    return model.loss(inputs: batch.inputs, targets: batch.flatTargets, labelSmoothing: Float(c.training.labelSmoothing))
                }
                let terms = distillation.loss(student: student, inputs: batch.inputs, targets: batch.flatTargets,
                                              labelSmoothing: Float(c.training.labelSmoothing))
                window.add(part: "loss_soft", loss: terms.soft, samples: batch.count)
                window.add(part: "loss_hard", loss: terms.hard, samples: batch.count)
                return terms.loss
            }
            loss.backward(NDArray(repeating: seed, shape: loss.shape))
            window.add(loss: Double(loss.item), samples: batch.count, key: first + k)
            fixedPoint?.add(ddp.arena.grads)  // moves all but the last shard out, for the next backward
        }
        fixedPoint?.reduce(into: ddp.arena.grads)
        let norm = try finishUpdate(step: step, epoch: epoch) { optimizer.step() }
        window.endStep(exposedSeconds: stepExposedSeconds)
        stepExposedSeconds = 0
        scheduler.advance()
        return norm
    }

    /// Averages the gradients over the ranks, unscales and checks them, clips, applies the
    /// update and zeroes the gradients; a non-finite norm skips the update (or stops the run).
    /// - Parameter applyUpdate: the optimizer step (one player's, in a GAN).
    /// - Returns: the global gradient norm before clipping (identical on every rank).
    func finishUpdate(step: Int, epoch: Int, _ applyUpdate: () -> Void) throws -> Double {
        let c = config, arena = ddp.arena
        stepExposedSeconds += ddp.finishGradients().exposedSeconds
        pruner?.applyToGradients()
        // Unscale (a factor on the gradient scale, reciprocal in Double); the norm's pass over the
        // averaged gradients is the inf/NaN check, so every rank sees the same answer.
        if let scaler { arena.gradientScale *= Float(1 / scaler.scale) }
        let norm = ddp.gradientNorm()
        let finite = norm.isFinite
        if finite {
            if let maxNorm = c.clipping.maxNorm { GradientClipping.scale(arena, total: norm, maxNorm: Float(maxNorm)) }
            if let limit = c.clipping.value { GradientClipping.clipValue(arena, limit: Float(limit)) }
            if let every = c.logging.histogramsEverySteps, (step + 1) % every == 0 {
                ddp.gatherGradients()
                writeHistograms(step: step + 1)
            }
            applyUpdate()
            ddp.gatherParameters()
            pruner?.applyToWeights()
            lastGoodStep = step + 1
        } else {
            skippedSteps += 1
        }
        arena.zeroGrad()
        if var s = scaler {
            s.update(overflow: !finite)
            scaler = s
            if s.overflowsAtMinimum >= c.precision.maxOverflowsAtMinScale {
                throw TrainingError("training diverged: \(s.overflowsAtMinimum) steps in a row overflowed at the minimum loss scale "
                    + "\(s.minScale) (step \(step + 1), epoch \(epoch + 1)); the last good update was step \(lastGoodStep)\(lastGoodHint). "
                    + "Lower optimizer.lr, enable clipping.max_norm, or train in bf16 or fp32")
            }
        } else if !finite {
            if c.training.nonfinite == "error" {
                throw TrainingError("the gradient norm is \(Self.text(norm)) at step \(step + 1) (epoch \(epoch + 1)); the last good update was "
                    + "step \(lastGoodStep)\(lastGoodHint). Lower optimizer.lr, enable clipping.max_norm, or set training.nonfinite: skip")
            }
            logger.warning("step \(step + 1): gradient norm \(Self.text(norm)); the step is skipped (training.nonfinite: skip)")
        }
        return norm
    }

    /// `model.init_from`: rank 0 reads the trained weights (DDP then broadcasts them); every
    /// rank gets rank 0's error, if any.
    /// - Parameter source: a run directory or a .safetensors file.
    static func loadInitialWeights(_ model: any Module, from source: String, communicator: Communicator) throws {
        var message = ""
        if communicator.rank == 0 {
            let path = source.hasSuffix(".safetensors") ? source : source + "/model.safetensors"
            do { try ModelWeights.load(model, from: (path as NSString).expandingTildeInPath) } catch { message = "\(error)" }
        }
        let error = communicator.allgather(message)[0]
        guard error.isEmpty else {
            throw ConfigError("model.init_from \(source): \(error); give a run directory of this model (its model.safetensors) or such a file")
        }
    }

    /// A number for messages: NaN and infinity in words (C's "-nan" says nothing to a user).
    static func text(_ value: Double) -> String {
        value.isNaN ? "NaN (not a number)" : value.isInfinite ? (value > 0 ? "infinite" : "-infinite") : "\(value)"
    }

    /// Where the last good weights are, for error messages.
    var lastGoodHint: String {
        guard let outputs, lastCheckpointStep >= 0 else { return outputs.map { " (run directory \($0.directory), no checkpoint yet)" } ?? "" }
        return "; the last checkpoint is step \(lastCheckpointStep) in \(outputs.checkpointDirectory) (continue from it with "
            + "`tandem resume \(outputs.directory)` after changing the settings)"
    }

    /// Rank 0 snapshots the training state and queues it for writing (other ranks do nothing:
    /// their state is the same, and they never touch the run directory).
    func saveCheckpoint() {
        let optimizerState = ddp.gatherState(of: optimizer), windowState = window.state(over: communicator)
        lastCheckpointStep = step
        lastCheckpointTime = Date()
        guard let checkpoints else { return }
        checkpoints.write(snapshot(optimizerState: optimizerState, window: windowState), name: CheckpointStore.name(step: step))
    }

    /// After a validation pass: keep the checkpoint with the best metric aside, as `best`.
    func keepIfBest(_ m: EvaluationMetrics) {
        let c = config.checkpointing
        let value = m.value(named: c.bestMetric)
        guard value.isFinite else { return }
        let better = bestMetric.map { c.bestMode == "min" ? value < $0 : value > $0 } ?? true
        guard better else { return }
        bestMetric = value
        guard c.keepBest else { return }
        let optimizerState = ddp.gatherState(of: optimizer), windowState = window.state(over: communicator)
        if let checkpoints {
            checkpoints.write(snapshot(optimizerState: optimizerState, window: windowState), name: "best", sequence: false)
        }
    }

    /// Copies of everything a checkpoint holds, taken now (between steps).
    /// - Parameters:
    ///   - optimizerState: `ddp.gatherState(of: optimizer)`, which every rank computes.
    ///   - window: `window.state(over:)`, likewise.
    func snapshot(optimizerState: [String: NDArray], window: LogWindow.State) -> CheckpointSnapshot {
        var m = CheckpointManifest()
        (m.step, m.epoch, m.positionInEpoch, m.samplerSeed) = (step, epoch, positionInEpoch, sampler.seed)
        m.rngStates = Dictionary(uniqueKeysWithValues: model.namedRandomStreams().map { ($0.0, $0.1.rng) })
        (m.scheduleStep, m.plateau, m.lossScaler) = (scheduler.stepCount, scheduler.plateau, scaler)
        (m.earlyStopping, m.skippedSteps, m.bestMetric) = (stopping, skippedSteps, bestMetric)
        m.pruningSparsity = pruner?.currentTarget
        if let v = lastValidation {
            // Metrics the evaluation skipped (ROC-AUC over too many scores) are NaN, which JSON cannot hold.
            m.validation = Dictionary(uniqueKeysWithValues: EvaluationMetrics.names.map { ($0, v.value(named: $0)) }.filter { $0.1.isFinite })
        }
        m.config = (try? ConfigLoader.yaml(config)) ?? ""
        m.configHash = ConfigLoader.hash(config)
        (m.worldSize, m.perRankBatch) = (communicator.size, config.data.batchSize)
        (m.microBatchesPerStep, m.globalBatch, m.logWindow) = (microBatchesPerStep, globalBatch, window)
        let modelTensors = model.namedParameters().map { ($0.0, $0.1.data.copy()) } + model.namedBuffers().map { ($0.0, $0.1.value.copy()) }
        let optimizerTensors = optimizerState.sorted { $0.key < $1.key }.map { ($0.key, $0.value.copy()) }
        var files = [ResumePoint.modelFile: modelTensors, ResumePoint.optimizerFile: optimizerTensors]
        if let pruner { files[ResumePoint.masksFile] = pruner.maskTensors }
        m.tensors = files.sorted { $0.key < $1.key }.flatMap { file, tensors in
            tensors.map { CheckpointManifest.TensorRecord(name: $0.0, file: file, shape: $0.1.shape.dims, dtype: "\($0.1.dtype)") }
        }
        return CheckpointSnapshot(manifest: m, files: files)
    }

    func evaluate(_ dataset: any Dataset, split: String, step: Int, epoch: Int, detailed: Bool) -> EvaluationMetrics {
        var m = Evaluator.evaluate(model, on: dataset, communicator: communicator, batchSize: max(config.data.batchSize, 256),
                                   topK: config.training.topK, limit: config.training.maxEvalSamples,
                                   precision: config.precision.computeType)
        if let scorer, let gan = adversarial {
            // 1000 images over the ranks, each rank from its own stream.
            let count = 1000 / communicator.size + (communicator.rank < 1000 % communicator.size ? 1 : 0)
            var rng = PhiloxRNG(seed: UInt64(config.seed) &* 7919 &+ UInt64(communicator.rank))
            m.classifierScore = scorer.score(gan.generate(count: count, rng: &rng), over: communicator)
        }
        outputs?.record(m.json(split: split, step: step, epoch: epoch, detailed: detailed))
        logger.info("\(summary(m, split: split))")
        return m
    }

    /// Rank 0 saves what generative models make: image grids and language models' text.
    /// - Parameter epoch: the 1-based epoch the files are named after.
    func writeSamples(epoch: Int) {
        lastSamplesStep = step
        writeImageGrids(epoch: epoch)
        writeTextSample(epoch: epoch)
    }

    /// A GPT's continuation of a newline, 300 characters at temperature 0.8 from a fixed seed,
    /// as `samples/epoch-NNN.txt` and a TensorBoard text summary.
    func writeTextSample(epoch: Int) {
        guard let outputs, let gpt = model as? GPT, let vocabulary = data.vocabulary else { return }
        let start = Int32(vocabulary.firstIndex(of: UInt8(ascii: "\n")) ?? 0)
        var rng = PhiloxRNG(seed: UInt64(config.seed))
        let ids = gpt.generate(prompt: [start], count: 300, temperature: 0.8, rng: &rng)
        let text = String(decoding: ids.map { vocabulary[Int($0)] }, as: UTF8.self)
        let folder = outputs.directory + "/samples"
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try text.write(toFile: folder + String(format: "/epoch-%03d.txt", epoch), atomically: true, encoding: .utf8)
        } catch {
            logger.warning("the text sample could not be written: \(error.localizedDescription); training goes on")
        }
        outputs.tensorBoard?.text(tag: "samples/text", text, step: step)
    }

    /// Rank 0 saves the model's image grids (reconstructions, samples, interpolations) of the
    /// first validation images as `images/epoch-NNN-NAME.png`; models without grids do nothing.
    func writeImageGrids(epoch: Int) {
        guard let outputs, let reporter = model as? any ImageGridReporter, data.validation.inputShape.rank == 3 else { return }
        let images = data.validation.batch(ArraySlice(0..<min(16, data.validation.count))).inputs
        var rng = PhiloxRNG(seed: UInt64(config.seed) &+ UInt64(epoch))  // its own stream: training's is untouched
        // Rank 0 alone runs these forwards: in evaluation mode, so no buffer (batch norm) moves.
        let wasTraining = model.training
        model.eval()
        defer { model.train(wasTraining) }
        let folder = outputs.directory + "/images"
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for grid in reporter.imageGrids(from: images, rng: &rng) {
                let path = folder + String(format: "/epoch-%03d-%@.png", epoch, grid.name)
                let png = ImageGrid.png(grid.images, columns: grid.columns), size = ImageGrid.size(grid.images, columns: grid.columns)
                try Data(png).write(to: URL(fileURLWithPath: path))
                outputs.tensorBoard?.image(tag: "images/\(grid.name)", png: png, width: size.width, height: size.height,
                                           channels: grid.images.shape[1], step: step)
            }
        } catch {
            logger.warning("image grids for epoch \(epoch) could not be written: \(error.localizedDescription); training goes on")
        }
    }

    /// Rank 0 writes a TensorBoard histogram of every parameter and of its gradient (as the
    /// optimizer will apply it: averaged, unscaled and clipped).
    func writeHistograms(step: Int) {
        guard let board = outputs?.tensorBoard else { return }
        let arena = ddp.arena, scale = arena.gradientScale
        for e in arena.entries {
            let values = Array(UnsafeBufferPointer(start: arena.values.ptr + e.offset, count: e.count))
            let grads = UnsafeBufferPointer(start: arena.grads.ptr + e.offset, count: e.count).map { $0 * scale }
            board.histogram(tag: "weights/\(e.name)", values: values, step: step)
            board.histogram(tag: "gradients/\(e.name)", values: grads, step: step)
        }
    }

    /// Where training stands, for messages: "after epoch 3" at an epoch's end, otherwise the step
    /// and the epoch in progress (epochs are counted from 1 in every message).
    var position: String {
        positionInEpoch == 0 && step > 0 ? "after epoch \(epoch)"
            : "at step \(step) (epoch \(epoch + 1) of \(config.training.epochs), part-way)"
    }

    func summary(_ m: EvaluationMetrics, split: String) -> String {
        guard m.isClassification else {
            return String(format: "%@ %@: loss %.4f%@", split, position, m.loss,
                          m.classifierScore.map { String(format: ", classifier_score %.3f", $0) } ?? "")
        }
        return String(format: "%@ %@: loss %.4f, accuracy %.4f, f1_macro %.4f%@%@", split, position, m.loss, m.accuracy, m.f1Macro,
               m.rocAUC.map { String(format: ", roc_auc %.4f", $0) } ?? "", m.exactMatch.map { String(format: ", exact_match %.4f", $0) } ?? "")
    }
}
