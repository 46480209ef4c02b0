import Autograd
import Optim
import Testing

/// An arena holding one parameter with the given values and gradient.
func arena(_ values: [Float], grad: [Float]) -> ParameterArena {
    let p = Tensor(values, shape: [values.count], requiresGrad: true)
    let a = ParameterArena([("p", p)])
    for (i, g) in grad.enumerated() { a.grads.ptr[i] = g }
    return a
}

@Suite("SGD and clipping follow PyTorch's update rules")
struct SGDTests {
    /// torch.optim.SGD, step by step in Double, for a fixed gradient sequence.
    static func reference(
        p0: [Double], grads: [[Double]], lr: Double, mu: Double, damp: Double, wd: Double, nesterov: Bool
    ) -> [Double] {
        var p = p0, v: [Double]? = nil
        for g in grads {
            let d = zip(g, p).map { $0 + wd * $1 }
            if mu != 0 {
                v = v.map { zip($0, d).map { mu * $0 + (1 - damp) * $1 } } ?? d
                let step = nesterov ? zip(d, v!).map { $0 + mu * $1 } : v!
                p = zip(p, step).map { $0 - lr * $1 }
            } else {
                p = zip(p, d).map { $0 - lr * $1 }
            }
        }
        return p
    }

    @Test(arguments: [(0.0, 0.0, 0.0, false), (0.9, 0.0, 0.0, false), (0.9, 0.1, 0.01, false), (0.9, 0.0, 0.05, true)])
    func matchesReference(mu: Double, damp: Double, wd: Double, nesterov: Bool) {
        let grads: [[Double]] = [[0.5, -1, 2], [0.1, 0.3, -0.2], [-0.4, 0.8, 0.05]]
        let a = arena([1, -2, 0.5], grad: [0, 0, 0])
        let sgd = SGD(
            a, learningRate: 0.1, momentum: Float(mu), dampening: Float(damp), weightDecay: Float(wd),
            nesterov: nesterov)
        for g in grads {
            for (i, v) in g.enumerated() { a.grads.ptr[i] = Float(v) }
            sgd.step()
        }
        let ref = Self.reference(
            p0: [1, -2, 0.5], grads: grads, lr: 0.1, mu: mu, damp: damp, wd: wd, nesterov: nesterov)
        for (got, want) in zip(a.tensors[0].data.scalars, ref) { #expect(Swift.abs(Double(got) - want) < 1e-6) }
    }

    @Test func clipByGlobalNorm() {
        let a = arena([0, 0], grad: [3, 4])
        #expect(Swift.abs(GradientClipping.clipNorm(a, maxNorm: 1) - 5) < 1e-9)
        a.applyGradientScale()  // clipping only scaled the arena's gradient scale
        let g = a.tensors[0].grad!.scalars
        #expect(Swift.abs(g[0] - 0.6) < 1e-6 && Swift.abs(g[1] - 0.8) < 1e-6)
        // Below the limit nothing changes.
        let b = arena([0, 0], grad: [0.3, 0.4])
        GradientClipping.clipNorm(b, maxNorm: 1)
        #expect(b.tensors[0].grad!.scalars == [0.3, 0.4])
        GradientClipping.clipValue(b, limit: 0.35)
        #expect(b.tensors[0].grad!.scalars == [0.3, 0.35])
    }

    /// The arena's gradient scale (averaging, clipping) is applied by the optimizer's pass.
    @Test func gradientScaleIsApplied() {
        let a = arena([1, -2], grad: [0.8, -0.4])
        a.gradientScale = 0.5
        SGD(a, learningRate: 0.1, momentum: 0.9).step()
        let p = a.tensors[0].data.scalars
        #expect(Swift.abs(p[0] - (1 - 0.1 * 0.4)) < 1e-7 && Swift.abs(p[1] - (-2 + 0.1 * 0.2)) < 1e-7)
        // clipNorm sees the scaled gradients and only changes the scale.
        let b = arena([0, 0], grad: [6, 8])
        b.gradientScale = 0.5
        #expect(Swift.abs(GradientClipping.clipNorm(b, maxNorm: 1) - 5) < 1e-9)
        #expect(b.tensors[0].grad!.scalars == [6, 8])
        b.applyGradientScale()
        let g = b.tensors[0].grad!.scalars
        #expect(Swift.abs(g[0] - 0.6) < 1e-6 && Swift.abs(g[1] - 0.8) < 1e-6 && b.gradientScale == 1)
        b.gradientScale = 3
        b.zeroGrad()
        #expect(b.gradientScale == 1)
    }
}
