import Autograd
import Foundation
import Optim
import Testing

/// `optimizer.l1`: l1·sign(p) joins the gradient of the decayed parameters, for every
/// optimizer, checked against the update rules worked in Double.
@Suite("L1 regularisation")
struct L1RegularizationTests {
    /// A matrix (decayed, so penalised; one entry is 0, whose sign is 0, and one has no
    /// gradient, so that only the penalty moves it) and a bias (not penalised).
    static func model() -> ParameterArena {
        let a = ParameterArena([
            ("w", Tensor([1, -2, 0, 0.5], shape: [2, 2], requiresGrad: true)),
            ("b", Tensor([0.5, -0.5], shape: [2], requiresGrad: true)),
        ])
        for (i, g) in [Float(0.5), -1, 2, 0].enumerated() { a.grads.ptr[i] = g }
        for (i, g) in [Float(0.25), 2].enumerated() { a.grads.ptr[16 + i] = g }
        return a
    }

    static let w0: [Double] = [1, -2, 0, 0.5], gw: [Double] = [0.5, -1, 2, 0]
    static let b0: [Double] = [0.5, -0.5], gb: [Double] = [0.25, 2]
    static let l1 = 0.01, wd = 0.1, lr = 0.05

    static func sign(_ x: Double) -> Double { x > 0 ? 1 : x < 0 ? -1 : 0 }

    static func values(_ a: ParameterArena) -> (w: [Double], b: [Double]) {
        (a.values.scalars[0..<4].map(Double.init), a.values.scalars[16..<18].map(Double.init))
    }

    static func expectClose(_ got: [Double], _ want: [Double], _ what: String) {
        for (x, y) in zip(got, want) { #expect(abs(x - y) <= 1e-6 * max(1, abs(y)), "\(what): \(got) vs \(want)") }
    }

    static func groups(_ a: ParameterArena, wd: Double = wd) -> ParameterGroups {
        ParameterGroups(a, weightDecay: Float(wd), l1: Float(l1))
    }

    @Test func sgd() {
        let a = Self.model()
        SGD(a, learningRate: Float(Self.lr), groups: Self.groups(a)).step()
        let w = zip(Self.w0, Self.gw).map { p, g in p - Self.lr * (g + Self.wd * p + Self.l1 * Self.sign(p)) }
        let b = zip(Self.b0, Self.gb).map { p, g in p - Self.lr * g }
        Self.expectClose(Self.values(a).w, w, "w")
        Self.expectClose(Self.values(a).b, b, "b")
        // The penalty moves the weights: without it the result differs by lr·l1 where p ≠ 0.
        let plain = Self.model()
        SGD(plain, learningRate: Float(Self.lr), groups: ParameterGroups(plain, weightDecay: Float(Self.wd))).step()
        let gap = zip(Self.values(a).w, Self.values(plain).w).map { abs($0 - $1) }
        Self.expectClose(gap, [5e-4, 5e-4, 0, 5e-4], "gap")
    }

    /// With momentum the penalised gradient enters the buffer: v = d, then v = μ·v + d.
    @Test func sgdWithMomentum() {
        let a = Self.model()
        let sgd = SGD(a, learningRate: Float(Self.lr), momentum: 0.9, groups: Self.groups(a))
        sgd.step()
        sgd.step()  // the same stored gradient again
        var p = Self.w0, v = [Double](repeating: 0, count: 4)
        for k in 0..<2 {
            for i in 0..<4 {
                let d = Self.gw[i] + Self.wd * p[i] + Self.l1 * Self.sign(p[i])
                v[i] = k == 0 ? d : 0.9 * v[i] + d
                p[i] -= Self.lr * v[i]
            }
        }
        Self.expectClose(Self.values(a).w, p, "w")
    }

    /// Adam (without decay, so the gradient-free entry moves by the penalty alone) and AdamW
    /// (decoupled decay first), one step.
    @Test(arguments: [false, true])
    func adam(decoupled: Bool) {
        let a = Self.model(), wd = decoupled ? Self.wd : 0
        Adam(a, learningRate: Float(Self.lr), decoupledWeightDecay: decoupled, groups: Self.groups(a, wd: wd)).step()
        let (b1, b2, eps) = (0.9, 0.999, 1e-8)
        func step(_ p0: Double, _ g0: Double, wd: Double, l1: Double) -> Double {
            var p = p0, g = g0
            if decoupled { p -= Self.lr * wd * p } else { g += wd * p }
            g += l1 * Self.sign(p)
            let m = (1 - b1) * g, v = (1 - b2) * g * g
            return p - Self.lr / (1 - b1) * m / (v.squareRoot() / (1 - b2).squareRoot() + eps)
        }
        Self.expectClose(Self.values(a).w, zip(Self.w0, Self.gw).map { step($0, $1, wd: wd, l1: Self.l1) }, "w")
        Self.expectClose(Self.values(a).b, zip(Self.b0, Self.gb).map { step($0, $1, wd: 0, l1: 0) }, "b")
        #expect(abs(Self.values(a).w[3] - 0.5) > 0.04, "the penalty alone moved w[3]: \(Self.values(a).w)")
    }

    /// RMSprop without decay: the gradient-free entry moves by the penalty alone.
    @Test func rmsprop() {
        let a = Self.model()
        RMSprop(a, learningRate: Float(Self.lr), groups: Self.groups(a, wd: 0)).step()
        func step(_ p: Double, _ g0: Double, wd: Double, l1: Double) -> Double {
            let g = g0 + wd * p + l1 * Self.sign(p)
            let v = 0.01 * g * g
            return p - Self.lr * g / (v.squareRoot() + 1e-8)
        }
        Self.expectClose(Self.values(a).w, zip(Self.w0, Self.gw).map { step($0, $1, wd: 0, l1: Self.l1) }, "w")
        Self.expectClose(Self.values(a).b, zip(Self.b0, Self.gb).map { step($0, $1, wd: 0, l1: 0) }, "b")
        #expect(Self.values(a).w[3] < 0.01, "the penalty alone moved w[3]: \(Self.values(a).w)")
    }
}
