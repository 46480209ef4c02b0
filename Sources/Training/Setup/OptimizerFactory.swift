import Models
import NN
import Optim

/// Builds the optimizer and learning-rate scheduler a config names.
public enum OptimizerFactory {
    /// - Parameters:
    ///   - config: `optimizer:`.
    ///   - arena: the parameters.
    ///   - model: an adversarial model gets one optimizer per player (same settings), as a
    ///     `PartitionedOptimizer` with parts "generator" and "discriminator".
    public static func optimizer(_ config: OptimizerConfig, arena: ParameterArena, model: (any Module)? = nil)
        -> Optimizer
    {
        guard let gan = model as? any AdversarialModel else {
            return optimizer(config, arena: arena, including: { _ in true })
        }
        return PartitionedOptimizer([
            ("generator", optimizer(config, arena: arena, including: { $0.hasPrefix(gan.generatorPrefix) })),
            ("discriminator", optimizer(config, arena: arena, including: { $0.hasPrefix(gan.discriminatorPrefix) })),
        ])
    }

    /// The optimizer of the parameters `including` selects.
    static func optimizer(_ config: OptimizerConfig, arena: ParameterArena, including: (String) -> Bool) -> Optimizer {
        let base = config.resolvedLR
        let assignments = config.groups.map {
            ParameterGroups.Assignment(
                prefix: $0.prefix, lrScale: base > 0 ? Float(($0.lr ?? base) / base) : 1,
                weightDecay: $0.weightDecay.map(Float.init))
        }
        let groups = ParameterGroups(
            arena, weightDecay: Float(config.resolvedWeightDecay), decayBiasAndNorm: config.decayBiasAndNorm,
            l1: Float(config.l1), assignments: assignments, including: including)
        let lr = Float(config.resolvedLR)
        switch config.name {
        case .adam, .adamw:
            return Adam(
                arena, learningRate: lr, beta1: Float(config.betas[0]), beta2: Float(config.betas[1]),
                eps: Float(config.eps),
                decoupledWeightDecay: config.name == .adamw, groups: groups)
        case .rmsprop:
            return RMSprop(
                arena, learningRate: lr, alpha: Float(config.alpha), eps: Float(config.eps),
                momentum: Float(config.momentum),
                centered: config.centered, groups: groups)
        default:
            return SGD(
                arena, learningRate: lr, momentum: Float(config.momentum), dampening: Float(config.dampening),
                nesterov: config.nesterov, groups: groups)
        }
    }

    /// - Parameters:
    ///   - config: `schedule:`.
    ///   - baseLR: the optimizer's rate.
    ///   - globalBatch: samples per optimizer step over all ranks (for the linear scaling rule).
    ///   - totalSteps: optimizer steps in the run (cosine, linear and one-cycle span them).
    public static func scheduler(_ config: ScheduleConfig, baseLR: Double, globalBatch: Int, totalSteps: Int)
        -> LearningRateScheduler
    {
        let lr =
            config.referenceBatch.map {
                LearningRateScheduler.scaled(baseLR, globalBatch: globalBatch, referenceBatch: $0)
            } ?? baseLR
        let schedule: LearningRateSchedule
        var plateau: ReduceLROnPlateau?
        switch config.name {
        case .step: schedule = .step(stepSize: config.stepSize, gamma: config.gamma)
        case .multistep: schedule = .multiStep(milestones: config.milestones, gamma: config.gamma)
        case .exponential: schedule = .exponential(gamma: config.gamma)
        case .cosine, .warmup_cosine: schedule = .cosine(totalSteps: totalSteps, minLR: config.minLR)
        case .linear: schedule = .linear(totalSteps: totalSteps, endFactor: config.endFactor)
        case .one_cycle:
            schedule = .oneCycle(
                totalSteps: totalSteps, pctStart: config.pctStart, divFactor: config.divFactor,
                finalDivFactor: config.finalDivFactor, baseMomentum: config.baseMomentum,
                maxMomentum: config.maxMomentum)
        case .plateau:
            schedule = .constant
            let p = config.plateau
            plateau = ReduceLROnPlateau(
                mode: p.mode == .max ? .max : .min, factor: p.factor, patience: p.patience,
                threshold: p.threshold, cooldown: p.cooldown, minLR: p.minLR)
        case .constant: schedule = .constant
        }
        return LearningRateScheduler(schedule, baseLR: lr, warmupSteps: config.warmupSteps, plateau: plateau)
    }
}
