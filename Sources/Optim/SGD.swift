import Autograd

/// Stochastic gradient descent with momentum, Nesterov and weight decay, as torch.optim.SGD.
///
/// Works on the flat arenas: one pass over all parameters, with the momentum buffer in a
/// third array of the same layout.
public final class SGD {
    public var learningRate: Float
    public let momentum: Float, dampening: Float, weightDecay: Float, nesterov: Bool
    public let arena: ParameterArena
    /// The momentum buffer (PyTorch's `momentum_buffer`), nil until the first step.
    public private(set) var velocity: NDArray?

    public init(_ arena: ParameterArena, learningRate: Float, momentum: Float = 0, dampening: Float = 0,
                weightDecay: Float = 0, nesterov: Bool = false) {
        precondition(learningRate >= 0, "learning rate must be non-negative, got \(learningRate)")
        precondition(!nesterov || (momentum > 0 && dampening == 0), "Nesterov momentum needs momentum > 0 and dampening 0")
        self.arena = arena
        (self.learningRate, self.momentum, self.dampening, self.weightDecay, self.nesterov) =
            (learningRate, momentum, dampening, weightDecay, nesterov)
    }

    /// p -= lr · d, where d = g + wd·p, with momentum v = μ·v + (1 - dampening)·d (v = d on the
    /// first step). g is the stored gradient times the arena's `gradientScale`.
    public func step() {
        let p = arena.values.ptr, g = arena.grads.ptr, n = arena.capacity, s = arena.gradientScale
        let lr = learningRate, wd = weightDecay, mu = momentum, damp = 1 - dampening, nest = nesterov
        if mu == 0 {
            ThreadPool.shared.parallelFor(n, grain: 1 << 15) { r in for i in r { p[i] -= lr * (s * g[i] + wd * p[i]) } }
            return
        }
        let first = velocity == nil
        if first { velocity = NDArray(shape: [n]) }
        let v = velocity!.ptr
        ThreadPool.shared.parallelFor(n, grain: 1 << 15) { r in
            for i in r {
                let d = s * g[i] + wd * p[i]
                v[i] = first ? d : mu * v[i] + damp * d
                p[i] -= lr * (nest ? d + mu * v[i] : v[i])
            }
        }
    }
}
