import Autograd

/// Stochastic gradient descent with momentum, Nesterov and weight decay, as torch.optim.SGD.
///
/// One pass over the arena, with the momentum buffer in a third array of the same layout.
public final class SGD: Optimizer {
    public var learningRate: Float
    public var momentum: Float
    public let dampening: Float, nesterov: Bool
    public let arena: ParameterArena
    public private(set) var groups: ParameterGroups
    /// The momentum buffer (PyTorch's `momentum_buffer`), nil until the first step with momentum.
    public private(set) var velocity: NDArray?

    /// - Parameters:
    ///   - arena: the parameters.
    ///   - learningRate: required, as in PyTorch.
    ///   - momentum: the velocity's decay (PyTorch's default 0).
    ///   - dampening: the new gradient enters the velocity scaled by 1 - dampening (0).
    ///   - nesterov: Nesterov momentum (false).
    ///   - weightDecay: L2 penalty added to the gradient (coupled), default 0.
    ///   - groups: overrides the weight decay per parameter (default: `weightDecay` on every parameter).
    public init(
        _ arena: ParameterArena, learningRate: Float, momentum: Float = 0, dampening: Float = 0,
        weightDecay: Float = 0, nesterov: Bool = false, groups: ParameterGroups? = nil
    ) {
        precondition(learningRate >= 0, "learning rate must be non-negative, got \(learningRate)")
        precondition(momentum >= 0, "momentum must be non-negative, got \(momentum)")
        precondition(
            !nesterov || (momentum > 0 && dampening == 0), "Nesterov momentum needs momentum > 0 and dampening 0")
        self.arena = arena
        self.groups = groups ?? ParameterGroups(arena, weightDecay: weightDecay, decayBiasAndNorm: true)
        (self.learningRate, self.momentum, self.dampening, self.nesterov) = (
            learningRate, momentum, dampening, nesterov
        )
    }

    public var cycledMomentum: Float {
        get { momentum }
        set { momentum = newValue }
    }

    public func restrictUpdates(to ranges: [Range<Int>]) {
        groups = groups.restricted(to: ranges)
        velocity = velocity.map(groups.compact)
    }

    public var state: [String: NDArray] {
        velocity.map { ["momentum_buffer": groups.expand($0, capacity: arena.capacity)] } ?? [:]
    }

    public func load(state: [String: NDArray]) throws {
        try checkNames(state, allowed: ["momentum_buffer"])
        if let v = state["momentum_buffer"] {
            let target = velocity ?? groups.makeState()
            try restore("momentum_buffer", v, into: target)
            velocity = target
        } else {
            velocity = nil
        }
    }

    /// p -= lr · d, where d = g + wd·p + l1·sign(p), with momentum v = μ·v + (1 - dampening)·d
    /// (v = d on the first step) and Nesterov's d + μ·v. g is the stored gradient times
    /// `gradientScale`; lr is the group's (the optimizer's times the run's `lrScale`).
    public func step() {
        let p = arena.values.ptr, g = arena.grads.ptr, s = arena.gradientScale
        let mu = momentum, damp = 1 - dampening, nest = nesterov
        if mu == 0 && velocity == nil {
            groups.forEachChunk { r, run, _ in
                let lr = learningRate * run.lrScale, wd = run.weightDecay, l1 = run.l1
                if l1 == 0 {
                    for i in r { p[i] -= lr * (s * g[i] + wd * p[i]) }
                } else {
                    for i in r { p[i] -= lr * (s * g[i] + wd * p[i] + l1 * signum(p[i])) }
                }
            }
            return
        }
        let first = velocity == nil
        if first { velocity = groups.makeState() }
        let velocity = velocity!.ptr
        groups.forEachChunk { r, run, shift in
            let v = velocity - shift  // the state of arena element i is at i - shift
            let lr = learningRate * run.lrScale, wd = run.weightDecay, l1 = run.l1
            for i in r {
                var d = s * g[i] + wd * p[i]
                if l1 != 0 { d += l1 * signum(p[i]) }
                v[i] = first ? d : mu * v[i] + damp * d
                p[i] -= lr * (nest ? d + mu * v[i] : v[i])
            }
        }
    }
}
