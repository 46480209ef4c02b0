import Autograd
import Collective
import Datasets
import Foundation
import Logging
import Models
import NN
import Optim

/// One optimizer step of one rank: forward and backward over the step's micro-batches, the
/// gradients averaged over the ranks, unscaled, checked, clipped and applied, with the loss
/// and throughput recorded in the metrics window.
///
/// A non-finite gradient norm is the same on every rank, so every rank skips (or stops) alike.
final class UpdateStep {
    let config: TrainConfig
    let communicator: Communicator
    let model: any TrainableModel
    /// The model as a GAN, when it is one: its steps alternate two updates.
    let adversarial: (any AdversarialModel)?
    /// The data-parallel wrapper and the optimizer (both rebuilt when frozen parameters join).
    private(set) var ddp: DistributedDataParallel
    private(set) var optimizer: Optimizer
    let scheduler: LearningRateScheduler
    /// The fp16 loss scaler (nil without loss scaling).
    var scaler: LossScaler?
    /// Steps whose update was skipped (fp16 overflows, or non-finite gradients with `nonfinite: skip`).
    var skippedSteps = 0
    /// The last step whose update was applied (for the divergence message).
    private var lastGoodStep = 0
    /// The loss and throughput since the last logged step (restored from a checkpoint on resume).
    var window = LogWindow()
    /// Time this step waited for gradient communication after backward (both players' in a GAN).
    private var exposedSeconds = 0.0
    /// Deterministic mode's exact sum of the micro-shard gradients (nil otherwise).
    private(set) var fixedPoint: FixedPointReducer?
    /// The model's random streams (dropout, noise), re-keyed per micro-shard in deterministic mode.
    let randomStreams: [any RandomStreamOwner]
    /// The teacher and its loss (`distillation:`; nil without a teacher).
    let distillation: Distillation?
    /// The pruning masks and their schedule (`pruning:`; nil without pruning).
    let pruner: Pruner?
    let logger: Logger
    /// Where the last good weights are, for the divergence messages.
    let checkpoints: CheckpointPolicy
    /// Gradient histograms (`logging.histograms_every_steps`).
    let samples: RunSamples

    /// - Parameters:
    ///   - config: the resolved configuration.
    ///   - fixedPoint: deterministic mode's reducer, from the step plan.
    ///   - checkpoints: names the last checkpoint in the divergence messages.
    ///   - samples: writes the gradient histograms.
    init(
        config: TrainConfig, communicator: Communicator, model: any TrainableModel, ddp: DistributedDataParallel,
        optimizer: Optimizer, scheduler: LearningRateScheduler, fixedPoint: FixedPointReducer?,
        distillation: Distillation?, pruner: Pruner?, logger: Logger, checkpoints: CheckpointPolicy,
        samples: RunSamples
    ) {
        self.config = config
        self.communicator = communicator
        self.model = model
        self.ddp = ddp
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.fixedPoint = fixedPoint
        self.distillation = distillation
        self.pruner = pruner
        self.logger = logger
        self.checkpoints = checkpoints
        self.samples = samples
        adversarial = model as? any AdversarialModel
        randomStreams = model.namedRandomStreams().map(\.1)
        let p = config.precision
        if p.scaling.on {
            scaler = LossScaler(
                initialScale: p.initialScale, dynamic: p.scaling.dynamic, growthFactor: p.growthFactor,
                backoffFactor: p.backoffFactor, growthInterval: p.growthInterval,
                hysteresis: p.hysteresis, minScale: p.minScale)
        }
    }

    /// Trains with a new arena from the next step on (gradual unfreezing).
    /// - Parameters:
    ///   - ddp: the wrapper over the new arena; the old one must be shut down.
    ///   - optimizer: a fresh optimizer over it, already sharded if the run shards.
    ///   - fixedPoint: deterministic mode's reducer over it.
    func replace(ddp: DistributedDataParallel, optimizer: Optimizer, fixedPoint: FixedPointReducer?) {
        (self.ddp, self.optimizer, self.fixedPoint) = (ddp, optimizer, fixedPoint)
    }

    /// The step over `micro`: a GAN's two updates on the first micro-batch, or one optimizer step.
    /// - Returns: the global gradient norm before clipping (identical on every rank).
    func run(_ micro: [Batch], step: Int, epoch: Int) throws -> Double {
        try adversarial.map { try adversarialStep(micro[0], $0, step: step, epoch: epoch) }
            ?? optimizerStep(micro, step: step, epoch: epoch)
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
                let smoothing = Float(c.training.labelSmoothing)
                guard let distillation, let student = model as? any Classifier else {
                    return model.loss(inputs: batch.inputs, targets: batch.flatTargets, labelSmoothing: smoothing)
                }
                let terms = distillation.loss(
                    student: student, inputs: batch.inputs, targets: batch.flatTargets,
                    labelSmoothing: smoothing)
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
        window.endStep(exposedSeconds: exposedSeconds)
        exposedSeconds = 0
        scheduler.advance()
        return norm
    }

    /// One GAN step (Goodfellow et al., algorithm 1 with k = 1): a discriminator update on the
    /// batch's real images against as many generated ones, then a generator update, each
    /// through the same gradient reducer and each by its own part of the optimizer.
    ///
    /// During the generator's backward the discriminator's parameters do not require
    /// gradients: the gradient still flows through the discriminator to the generator, but no
    /// discriminator weight gradient is computed, and its slots stay zero for the norm.
    /// - Returns: the generator step's gradient norm.
    func adversarialStep(_ batch: Batch, _ gan: any AdversarialModel, step: Int, epoch: Int) throws -> Double {
        scheduler.apply(to: optimizer)
        let parts = optimizer as! PartitionedOptimizer
        let discriminatorLoss = gan.discriminatorLoss(real: batch.inputs)
        discriminatorLoss.backward()
        _ = try finishUpdate(step: step, epoch: epoch) { parts.step(part: "discriminator") }

        // Frozen ones (`training.freeze`) never require gradients, and must not start to here.
        let discriminatorParameters = gan.namedParameters().filter {
            $0.0.hasPrefix(gan.discriminatorPrefix) && $0.1.requiresGrad
        }.map(\.1)
        for p in discriminatorParameters { p.requiresGrad = false }
        let generatorLoss = gan.generatorLoss(count: batch.count)
        generatorLoss.backward()
        for p in discriminatorParameters { p.requiresGrad = true }
        let norm = try finishUpdate(step: step, epoch: epoch) { parts.step(part: "generator") }

        let (d, g) = (Double(discriminatorLoss.item), Double(generatorLoss.item))
        window.add(loss: d + g, samples: batch.count, key: step * communicator.size + communicator.rank)
        window.add(part: "loss_d", loss: d, samples: batch.count)
        window.add(part: "loss_g", loss: g, samples: batch.count)
        window.endStep(exposedSeconds: exposedSeconds)
        exposedSeconds = 0
        scheduler.advance()
        return norm
    }

    /// Averages the gradients over the ranks, unscales and checks them, clips, applies the
    /// update and zeroes the gradients; a non-finite norm skips the update (or stops the run).
    /// - Parameter applyUpdate: the optimizer step (one player's, in a GAN).
    /// - Returns: the global gradient norm before clipping (identical on every rank).
    func finishUpdate(step: Int, epoch: Int, _ applyUpdate: () -> Void) throws -> Double {
        let c = config, arena = ddp.arena
        exposedSeconds += ddp.finishGradients().exposedSeconds
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
                samples.writeHistograms(of: arena, step: step + 1)
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
                throw TrainingError(
                    "training diverged: \(s.overflowsAtMinimum) steps in a row overflowed at the minimum loss scale "
                        + "\(s.minScale) (step \(step + 1), epoch \(epoch + 1)); the last good update was step "
                        + "\(lastGoodStep)\(checkpoints.lastGoodHint). "
                        + "Lower optimizer.lr, enable clipping.max_norm, or train in bf16 or fp32")
            }
        } else if !finite {
            if c.training.nonfinite == .error {
                throw TrainingError(
                    "the gradient norm is \(Self.text(norm)) at step \(step + 1) (epoch \(epoch + 1)); the last good "
                        + "update was step \(lastGoodStep)\(checkpoints.lastGoodHint). Lower optimizer.lr, "
                        + "enable clipping.max_norm, or set training.nonfinite: skip")
            }
            logger.warning(
                "step \(step + 1): gradient norm \(Self.text(norm)); the step is skipped (training.nonfinite: skip)")
        }
        return norm
    }

    /// A number for messages: NaN and infinity in words (C's "-nan" says nothing to a user).
    static func text(_ value: Double) -> String {
        value.isNaN ? "NaN (not a number)" : value.isInfinite ? (value > 0 ? "infinite" : "-infinite") : "\(value)"
    }
}
