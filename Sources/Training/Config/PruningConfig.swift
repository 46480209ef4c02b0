/// `pruning:` zeroes the least important weights during training, along Zhu and Gupta's
/// (2017) gradual schedule, and keeps them zero with masks that checkpoints save.
public struct PruningConfig: Codable, Equatable, Sendable {
    /// none; magnitude (single weights of every linear and convolution layer, smallest |w|
    /// first); channels (whole output channels of every convolution, smallest L2 norm first);
    /// heads (whole attention heads: their query, key and value rows and output columns).
    public var method = PruningMethod.none
    /// magnitude: one threshold over all layers (global) or the same sparsity in each layer
    /// (layer). channels and heads are always pruned per layer.
    public var scope = PruningScope.global
    /// The final fraction of the units (weights, channels or heads) set to zero.
    public var sparsity = 0.5
    /// The fraction pruned at `start_step`.
    public var initialSparsity = 0.0
    /// Optimizer steps (counted over the whole run) at which pruning starts and reaches
    /// `sparsity`; end_step null: two thirds into the run, leaving the last third to fine-tune.
    /// start_step == end_step prunes once (a trained model from model.init_from, then fine-tuned).
    public var startStep = 0
    public var endStep: Int?
    /// Masks are recomputed every this many steps between start_step and end_step.
    public var everySteps = 100
    /// Parameters never pruned, by dotted name or prefix (e.g. c1 or output.weight).
    public var exclude: [String] = []

    public init() {}

    enum CodingKeys: String, CodingKey {
        case method, scope, sparsity, exclude
        case initialSparsity = "initial_sparsity", startStep = "start_step", endStep = "end_step", everySteps =
            "every_steps"
    }

    public var enabled: Bool { method != .none }

    func validate(_ v: inout ConfigValidator) {
        if method == .channels || method == .heads {
            v.require(
                scope == .layer, "pruning.scope", scope,
                "layer for pruning.method \(method) (whole channels and heads are pruned per layer)")
        }
        v.require(sparsity >= 0 && sparsity < 1, "pruning.sparsity", sparsity, "0 <= sparsity < 1")
        v.require(
            initialSparsity >= 0 && initialSparsity <= sparsity, "pruning.initial_sparsity", initialSparsity,
            "0 <= initial_sparsity <= pruning.sparsity")
        v.require(startStep >= 0, "pruning.start_step", startStep, "a step >= 0")
        v.require(
            endStep.map { $0 >= startStep } ?? true, "pruning.end_step", endStep,
            "null or a step >= pruning.start_step (\(startStep))")
        v.require(everySteps >= 1, "pruning.every_steps", everySteps, "a positive number of steps")
        v.atMost(startStep, "pruning.start_step", ConfigLimits.count, "steps")
        v.atMost(endStep, "pruning.end_step", ConfigLimits.count, "steps")
        v.atMost(everySteps, "pruning.every_steps", ConfigLimits.count, "steps")
    }
}

/// `pruning.method`: what is pruned.
public enum PruningMethod: String, ConfigChoice {
    case none, magnitude, channels, heads
}

/// `pruning.scope`: where magnitude pruning's threshold is drawn.
public enum PruningScope: String, ConfigChoice {
    /// One threshold over all layers.
    case global
    /// The same sparsity in each layer.
    case layer
}
