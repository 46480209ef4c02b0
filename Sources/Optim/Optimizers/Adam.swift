import Autograd
import Foundation

/// Adam and AdamW, as torch.optim.Adam and torch.optim.AdamW.
///
/// Adam adds the weight decay to the gradient (an L2 penalty that the moments then rescale);
/// AdamW decays the weights directly, `p -= lr·wd·p`, before the Adam update (Loshchilov and
/// Hutter), which is what makes its decay independent of the gradient's scale.
public final class Adam: Optimizer {
    public var learningRate: Float
    public var beta1: Float
    public let beta2: Float, eps: Float
    /// AdamW's decoupled decay instead of Adam's L2 penalty.
    public let decoupledWeightDecay: Bool
    public let arena: ParameterArena
    public private(set) var groups: ParameterGroups
    /// First and second moments (PyTorch's `exp_avg`, `exp_avg_sq`).
    public private(set) var exponentialAverage: NDArray, exponentialAverageSquared: NDArray
    /// Steps taken, for bias correction.
    public private(set) var stepCount = 0

    /// - Parameters:
    ///   - arena: the parameters.
    ///   - learningRate: the step size (PyTorch's default 1e-3).
    ///   - beta1: the decay of the gradient's running mean (0.9).
    ///   - beta2: the decay of the squared gradient's running mean (0.999).
    ///   - eps: added to the denominator (1e-8).
    ///   - weightDecay: PyTorch's default is 0 for Adam and 0.01 for AdamW (see `adamW`).
    ///   - decoupledWeightDecay: true for AdamW.
    ///   - groups: overrides the weight decay per parameter.
    public init(
        _ arena: ParameterArena, learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
        eps: Float = 1e-8, weightDecay: Float = 0, decoupledWeightDecay: Bool = false, groups: ParameterGroups? = nil
    ) {
        precondition(learningRate >= 0 && eps >= 0, "learning rate and eps must be non-negative")
        precondition(
            (0..<1).contains(beta1) && (0..<1).contains(beta2), "betas must lie in [0, 1), got (\(beta1), \(beta2))")
        self.arena = arena
        self.groups = groups ?? ParameterGroups(arena, weightDecay: weightDecay, decayBiasAndNorm: true)
        (self.learningRate, self.beta1, self.beta2, self.eps, self.decoupledWeightDecay) =
            (learningRate, beta1, beta2, eps, decoupledWeightDecay)
        exponentialAverage = self.groups.makeState()
        exponentialAverageSquared = self.groups.makeState()
    }

    /// AdamW with PyTorch's defaults (weight decay 0.01).
    public static func adamW(
        _ arena: ParameterArena, learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
        eps: Float = 1e-8, weightDecay: Float = 0.01, groups: ParameterGroups? = nil
    ) -> Adam {
        Adam(
            arena, learningRate: learningRate, beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay,
            decoupledWeightDecay: true, groups: groups)
    }

    public var cycledMomentum: Float {
        get { beta1 }
        set { beta1 = newValue }
    }

    public func restrictUpdates(to ranges: [Range<Int>]) {
        groups = groups.restricted(to: ranges)
        exponentialAverage = groups.compact(exponentialAverage)
        exponentialAverageSquared = groups.compact(exponentialAverageSquared)
    }

    public var state: [String: NDArray] {
        [
            "exp_avg": groups.expand(exponentialAverage, capacity: arena.capacity),
            "exp_avg_sq": groups.expand(exponentialAverageSquared, capacity: arena.capacity),
            "step": NDArray([Float(stepCount)], shape: [1]),
        ]
    }

    public func load(state: [String: NDArray]) throws {
        try checkNames(state, allowed: ["exp_avg", "exp_avg_sq", "step"])
        guard let m = state["exp_avg"], let v = state["exp_avg_sq"], let s = state["step"], s.count == 1 else {
            throw OptimizerStateError(
                description: "Adam state needs exp_avg, exp_avg_sq and step; the checkpoint has \(state.keys.sorted())")
        }
        try restore("exp_avg", m, into: exponentialAverage)
        try restore("exp_avg_sq", v, into: exponentialAverageSquared)
        stepCount = Int(s.float32.scalars[0])
    }

    /// m = β1·m + (1-β1)·g, v = β2·v + (1-β2)·g², p -= lr/(1-β1^t) · m / (√v/√(1-β2^t) + eps),
    /// with g = s·grad + l1·sign(p) (+ wd·p for Adam) and p *= 1 - lr·wd first for AdamW; lr is
    /// the group's (the optimizer's times the run's `lrScale`).
    public func step() {
        stepCount += 1
        let p = arena.values.ptr, g = arena.grads.ptr, s = arena.gradientScale
        let moment1 = exponentialAverage.ptr, moment2 = exponentialAverageSquared.ptr
        let b1 = beta1, b2 = beta2, eps = eps, decoupled = decoupledWeightDecay
        let correction1 = 1 - pow(Double(b1), Double(stepCount))
        let correction2 = Float((1 - pow(Double(b2), Double(stepCount))).squareRoot())
        // Eight parameters at a time: the four arrays might overlap as far as the compiler
        // knows, so a plain loop stayed scalar (a square root and a division per parameter,
        // 3 ms of the GPT step). The same operations in the same order: the same bits.
        @inline(__always) func update(
            _ param: inout SIMD8<Float>, _ gradient: SIMD8<Float>, _ first: inout SIMD8<Float>,
            _ second: inout SIMD8<Float>, _ run: (lr: Float, stepSize: Float, wd: Float, l1: Float)
        ) {
            var grad = s * gradient
            if decoupled { param -= run.lr * run.wd * param } else { grad += run.wd * param }
            if run.l1 != 0 {
                let zero = SIMD8<Float>()
                grad += run.l1 * zero.replacing(with: 1, where: param .> zero).replacing(with: -1, where: param .< zero)
            }
            first = b1 * first + (1 - b1) * grad
            second = b2 * second + (1 - b2) * grad * grad
            param -= run.stepSize * first / (second.squareRoot() / correction2 + eps)
        }
        func load(_ x: UnsafeMutablePointer<Float>, _ i: Int) -> SIMD8<Float> {
            UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
        }
        func store(_ x: SIMD8<Float>, _ to: UnsafeMutablePointer<Float>, _ i: Int) {
            UnsafeMutableRawPointer(to + i).storeBytes(of: x, as: SIMD8<Float>.self)
        }
        groups.forEachChunk { r, group, shift in
            let lr = learningRate * group.lrScale
            let run = (lr, Float(Double(lr) / correction1), group.weightDecay, group.l1)
            let m = moment1 - shift, v = moment2 - shift  // arena element i's moments are at i - shift
            var i = r.lowerBound
            while i + 8 <= r.upperBound {
                var (pv, mv, vv) = (load(p, i), load(m, i), load(v, i))
                update(&pv, load(g, i), &mv, &vv, run)
                store(pv, p, i); store(mv, m, i); store(vv, v, i)
                i += 8
            }
            // The last few go through zero-padded lanes.
            let n = r.upperBound - i
            var (pv, gv, mv, vv) = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
            for l in 0..<n { (pv[l], gv[l], mv[l], vv[l]) = (p[i + l], g[i + l], m[i + l], v[i + l]) }
            update(&pv, gv, &mv, &vv, run)
            for l in 0..<n { (p[i + l], m[i + l], v[i + l]) = (pv[l], mv[l], vv[l]) }
        }
    }
}
