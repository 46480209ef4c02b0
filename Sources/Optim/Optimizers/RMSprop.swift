import Autograd

/// RMSprop with optional momentum and centering, as torch.optim.RMSprop.
public final class RMSprop: Optimizer {
    public var learningRate: Float
    public var momentum: Float
    public let alpha: Float, eps: Float, centered: Bool
    public let arena: ParameterArena
    public private(set) var groups: ParameterGroups
    /// Running mean of g² (`square_avg`), of g when centered (`grad_avg`), and the momentum buffer.
    public private(set) var squareAverage: NDArray
    public private(set) var gradientAverage: NDArray?, momentumBuffer: NDArray?

    /// - Parameters:
    ///   - arena: the parameters.
    ///   - learningRate: the step size (PyTorch's default 1e-2).
    ///   - alpha: the decay of the squared gradient's running mean (0.99).
    ///   - eps: added to the denominator (1e-8).
    ///   - momentum: default 0.
    ///   - centered: divide by the gradient's estimated variance, not its second moment (default false).
    ///   - weightDecay: L2 penalty added to the gradient, default 0.
    ///   - groups: overrides the weight decay per parameter.
    public init(
        _ arena: ParameterArena, learningRate: Float = 1e-2, alpha: Float = 0.99, eps: Float = 1e-8,
        momentum: Float = 0, centered: Bool = false, weightDecay: Float = 0, groups: ParameterGroups? = nil
    ) {
        precondition(
            learningRate >= 0 && eps >= 0 && momentum >= 0, "learning rate, eps and momentum must be non-negative")
        precondition((0..<1).contains(alpha), "alpha must lie in [0, 1), got \(alpha)")
        self.arena = arena
        self.groups = groups ?? ParameterGroups(arena, weightDecay: weightDecay, decayBiasAndNorm: true)
        (self.learningRate, self.alpha, self.eps, self.momentum, self.centered) = (
            learningRate, alpha, eps, momentum, centered
        )
        squareAverage = self.groups.makeState()
        if centered { gradientAverage = self.groups.makeState() }
    }

    public var cycledMomentum: Float {
        get { momentum }
        set { momentum = newValue }
    }

    public func restrictUpdates(to ranges: [Range<Int>]) {
        groups = groups.restricted(to: ranges)
        squareAverage = groups.compact(squareAverage)
        gradientAverage = gradientAverage.map(groups.compact)
        momentumBuffer = momentumBuffer.map(groups.compact)
    }

    public var state: [String: NDArray] {
        var out = ["square_avg": groups.expand(squareAverage, capacity: arena.capacity)]
        if let gradientAverage { out["grad_avg"] = groups.expand(gradientAverage, capacity: arena.capacity) }
        if let momentumBuffer { out["momentum_buffer"] = groups.expand(momentumBuffer, capacity: arena.capacity) }
        return out
    }

    public func load(state: [String: NDArray]) throws {
        try checkNames(state, allowed: ["square_avg", "grad_avg", "momentum_buffer"])
        guard let sq = state["square_avg"] else {
            throw OptimizerStateError(
                description: "RMSprop state needs square_avg; the checkpoint has \(state.keys.sorted())")
        }
        try restore("square_avg", sq, into: squareAverage)
        if let ga = gradientAverage {
            guard let saved = state["grad_avg"] else {
                throw OptimizerStateError(description: "a centered RMSprop needs grad_avg, which the checkpoint lacks")
            }
            try restore("grad_avg", saved, into: ga)
        }
        if let b = state["momentum_buffer"] {
            let target = momentumBuffer ?? groups.makeState()
            try restore("momentum_buffer", b, into: target)
            momentumBuffer = target
        }
    }

    /// With g = s·grad + wd·p + l1·sign(p) and lr the group's:
    /// v = α·v + (1-α)·g²; a = √(v - ḡ²) + eps when centered (ḡ = α·ḡ + (1-α)·g), else √v + eps;
    /// then p -= lr·g/a, or with momentum b = μ·b + g/a, p -= lr·b.
    public func step() {
        let p = arena.values.ptr, g = arena.grads.ptr, s = arena.gradientScale
        let square = squareAverage.ptr, meanGradient = gradientAverage?.ptr
        let a = alpha, eps = eps, mu = momentum
        if mu > 0 && momentumBuffer == nil { momentumBuffer = groups.makeState() }
        let buffer = momentumBuffer?.ptr
        groups.forEachChunk { r, run, shift in
            // Arena element i's state is at i - shift.
            let sq = square - shift, ga = meanGradient.map { $0 - shift }, b = buffer.map { $0 - shift }
            let lr = learningRate * run.lrScale, wd = run.weightDecay, l1 = run.l1
            for i in r {
                var grad = s * g[i] + wd * p[i]
                if l1 != 0 { grad += l1 * signum(p[i]) }
                sq[i] = a * sq[i] + (1 - a) * grad * grad
                var average: Float
                if let ga {
                    ga[i] = a * ga[i] + (1 - a) * grad
                    average = (sq[i] - ga[i] * ga[i]).squareRoot() + eps
                } else {
                    average = sq[i].squareRoot() + eps
                }
                if let b {
                    b[i] = mu * b[i] + grad / average
                    p[i] -= lr * b[i]
                } else {
                    p[i] -= lr * grad / average
                }
            }
        }
    }
}
