/// `optimizer:` the update rule, with PyTorch's defaults where the key is left out.
public struct OptimizerConfig: Codable, Equatable, Sendable {
    /// sgd, adam, adamw or rmsprop.
    public var name = OptimizerName.sgd
    /// The peak learning rate; null takes the optimizer's PyTorch default (adam and adamw 1e-3,
    /// rmsprop 1e-2; sgd has none and needs one).
    public var lr: Double?
    /// sgd and rmsprop momentum.
    public var momentum = 0.0
    public var dampening = 0.0
    public var nesterov = false
    /// adam and adamw.
    public var betas = [0.9, 0.999]
    public var eps = 1e-8
    /// rmsprop smoothing constant and centering.
    public var alpha = 0.99
    public var centered = false
    /// Weight decay; null takes the default (adamw 0.01, others 0).
    public var weightDecay: Double?
    /// Decay biases and normalisation weights too (off: they form a group without decay).
    public var decayBiasAndNorm = false
    /// L1 regularisation: l1·sign(p) is added to the gradient of every decayed parameter (the
    /// ones weight decay applies to), for every optimizer; 0: off.
    public var l1 = 0.0
    /// Parameter groups by name prefix, each with its own learning rate and weight decay.
    public var groups: [OptimizerGroupConfig] = []
    /// Accept `lr: 0` (a run that updates nothing, e.g. to measure the data path); refused otherwise.
    public var allowZeroLR = false

    public init() {}

    enum CodingKeys: String, CodingKey {
        case name, lr, momentum, dampening, nesterov, betas, eps, alpha, centered, l1, groups
        case weightDecay = "weight_decay", decayBiasAndNorm = "decay_bias_and_norm", allowZeroLR = "allow_zero_lr"
    }

    /// The learning rate after defaults.
    public var resolvedLR: Double { lr ?? name.defaultLR ?? 0 }
    /// The weight decay after defaults.
    public var resolvedWeightDecay: Double { weightDecay ?? (name == .adamw ? 0.01 : 0) }

    func validate(_ v: inout ConfigValidator) {
        if name == .sgd && lr == nil {
            v.require(false, "optimizer.lr", lr, "a learning rate (sgd has no default)")
        } else if resolvedLR == 0 && lr != nil {
            v.require(
                allowZeroLR, "optimizer.lr", lr,
                "a positive number (at 0 nothing trains; "
                    + "set optimizer.allow_zero_lr: true to run without updates on purpose)")
        } else {
            v.require(resolvedLR > 0 && resolvedLR.isFinite, "optimizer.lr", lr, "a positive number")
        }
        v.require(momentum >= 0 && momentum < 1, "optimizer.momentum", momentum, "0 <= momentum < 1")
        v.require(dampening >= 0 && dampening <= 1, "optimizer.dampening", dampening, "0 <= dampening <= 1")
        v.require(
            !nesterov || (momentum > 0 && dampening == 0), "optimizer.nesterov", nesterov,
            "true only with momentum > 0 and dampening 0")
        v.require(
            betas.count == 2 && betas.allSatisfy { $0 >= 0 && $0 < 1 }, "optimizer.betas", betas,
            "two numbers in [0, 1)")
        v.require(eps >= 0, "optimizer.eps", eps, "a non-negative number")
        v.require(alpha >= 0 && alpha < 1, "optimizer.alpha", alpha, "0 <= alpha < 1")
        v.require(resolvedWeightDecay >= 0, "optimizer.weight_decay", weightDecay, "a non-negative number")
        v.require(l1 >= 0 && l1.isFinite, "optimizer.l1", l1, "a non-negative number (0: no L1 penalty)")
        OptimizerGroupConfig.validate(groups, &v)
    }
}

/// `optimizer.name`: the update rules.
public enum OptimizerName: String, ConfigChoice {
    case sgd, adam, adamw, rmsprop

    /// PyTorch's default learning rate (sgd has none).
    var defaultLR: Double? {
        switch self {
        case .sgd: return nil
        case .adam, .adamw: return 1e-3
        case .rmsprop: return 1e-2
        }
    }
}

/// `schedule.name`: the learning-rate schedules.
public enum ScheduleName: String, ConfigChoice {
    case constant, step, multistep, exponential, cosine, warmup_cosine, linear, one_cycle, plateau
}

/// `schedule:` how the learning rate moves over the optimizer steps.
public struct ScheduleConfig: Codable, Equatable, Sendable {
    /// constant, step, multistep, exponential, cosine, warmup_cosine, linear, one_cycle or plateau.
    public var name = ScheduleName.constant
    /// Linear warm-up steps before the schedule (all but one_cycle).
    public var warmupSteps = 0
    /// step: decay every `step_size` steps; step, multistep, exponential: the factor.
    public var stepSize = 1000
    public var gamma = 0.1
    /// multistep: the steps at which the rate is multiplied by gamma.
    public var milestones: [Int] = []
    /// cosine, warmup_cosine: the rate at the end.
    public var minLR = 0.0
    /// linear: the final rate as a fraction of the peak.
    public var endFactor = 0.0
    /// one_cycle: PyTorch's OneCycleLR settings.
    public var pctStart = 0.3
    public var divFactor = 25.0
    public var finalDivFactor = 1e4
    public var baseMomentum = 0.85
    public var maxMomentum = 0.95
    /// plateau: reduce on a validation metric.
    public var plateau = PlateauConfig()
    /// The linear scaling rule: multiply the rate by global batch / reference_batch (null: off).
    public var referenceBatch: Int?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case name, gamma, milestones, plateau
        case warmupSteps = "warmup_steps", stepSize = "step_size", minLR = "min_lr", endFactor = "end_factor"
        case pctStart = "pct_start", divFactor = "div_factor", finalDivFactor = "final_div_factor"
        case baseMomentum = "base_momentum", maxMomentum = "max_momentum", referenceBatch = "reference_batch"
    }

    func validate(_ v: inout ConfigValidator) {
        v.require(warmupSteps >= 0, "schedule.warmup_steps", warmupSteps, "a non-negative number of steps")
        if name == .warmup_cosine {
            v.require(warmupSteps > 0, "schedule.warmup_steps", warmupSteps, "at least 1 for warmup_cosine")
        }
        v.require(stepSize >= 1, "schedule.step_size", stepSize, "a positive number of steps")
        v.require(gamma > 0 && gamma <= 1, "schedule.gamma", gamma, "0 < gamma <= 1")
        v.require(
            milestones == milestones.sorted() && milestones.allSatisfy { $0 > 0 }, "schedule.milestones", milestones,
            "increasing positive step numbers")
        v.require(minLR >= 0, "schedule.min_lr", minLR, "a non-negative number")
        v.require(endFactor >= 0 && endFactor <= 1, "schedule.end_factor", endFactor, "0 <= end_factor <= 1")
        v.require(pctStart > 0 && pctStart < 1, "schedule.pct_start", pctStart, "0 < pct_start < 1")
        v.require(
            divFactor >= 1 && finalDivFactor >= 1, "schedule.div_factor", divFactor,
            "div_factor and final_div_factor >= 1")
        v.require(
            baseMomentum >= 0 && baseMomentum <= maxMomentum && maxMomentum < 1, "schedule.base_momentum", baseMomentum,
            "0 <= base_momentum <= max_momentum < 1")
        v.require(
            referenceBatch.map { $0 >= 1 } ?? true, "schedule.reference_batch", referenceBatch,
            "null or a positive batch size")
        v.atMost(warmupSteps, "schedule.warmup_steps", ConfigLimits.count, "steps")
        v.atMost(stepSize, "schedule.step_size", ConfigLimits.count, "steps")
        v.atMost(milestones, "schedule.milestones", ConfigLimits.count, "steps")
        v.atMost(referenceBatch, "schedule.reference_batch", ConfigLimits.count, "samples")
        plateau.validate(&v)
    }
}

/// `schedule.plateau:` ReduceLROnPlateau, with PyTorch's defaults.
public struct PlateauConfig: Codable, Equatable, Sendable {
    /// The validation metric to watch: loss, accuracy, top5, f1_macro, ...
    public var metric = MetricName.loss
    /// min (lower is better) or max.
    public var mode = MetricMode.min
    public var factor = 0.1
    public var patience = 10
    public var threshold = 1e-4
    public var cooldown = 0
    public var minLR = 0.0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case metric, mode, factor, patience, threshold, cooldown
        case minLR = "min_lr"
    }

    func validate(_ v: inout ConfigValidator) {
        v.require(factor > 0 && factor < 1, "schedule.plateau.factor", factor, "0 < factor < 1")
        v.require(patience >= 0 && cooldown >= 0, "schedule.plateau.patience", patience, "patience and cooldown >= 0")
        v.require(threshold >= 0, "schedule.plateau.threshold", threshold, "a non-negative number")
        v.require(minLR >= 0, "schedule.plateau.min_lr", minLR, "a non-negative number")
        v.atMost(patience, "schedule.plateau.patience", ConfigLimits.count, "evaluations")
        v.atMost(cooldown, "schedule.plateau.cooldown", ConfigLimits.count, "evaluations")
    }
}

/// `clipping:` gradient clipping on the averaged gradients (identical on every rank).
public struct ClippingConfig: Codable, Equatable, Sendable {
    /// Clip the global L2 norm to this (null: off).
    public var maxNorm: Double?
    /// Clamp every gradient to [-value, value] (null: off).
    public var value: Double?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case value
        case maxNorm = "max_norm"
    }

    func validate(_ v: inout ConfigValidator) {
        v.require(maxNorm.map { $0 > 0 } ?? true, "clipping.max_norm", maxNorm, "null or a positive number")
        v.require(value.map { $0 > 0 } ?? true, "clipping.value", value, "null or a positive number")
    }
}
