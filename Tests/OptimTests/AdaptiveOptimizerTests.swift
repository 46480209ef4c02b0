import Foundation
import Autograd
import Optim
import Testing

/// Adam, AdamW and RMSprop against values worked out by hand with PyTorch's formulas
/// (torch.optim source, in Double) for three steps of a fixed gradient sequence.
@Suite("Adam, AdamW and RMSprop follow PyTorch's update rules")
struct AdaptiveOptimizerTests {
    static let grads: [[Float]] = [[0.5, -1, 2], [0.1, 0.3, -0.2], [-0.4, 0.8, 0.05]]

    /// Runs `optimizer` over `grads` and returns the parameters after each step.
    static func trajectory(_ a: ParameterArena, _ optimizer: Optimizer) -> [[Float]] {
        grads.map { g in
            for (i, v) in g.enumerated() { a.grads.ptr[i] = v }
            optimizer.step()
            return a.tensors[0].data.scalars
        }
    }

    static func expectClose(_ got: [[Float]], _ want: [[Double]], tolerance: Double = 2e-6) {
        for (g, w) in zip(got, want) {
            for (x, y) in zip(g, w) { #expect(Swift.abs(Double(x) - y) < tolerance, "got \(g), want \(w)") }
        }
    }

    @Test func adamWithPyTorchDefaults() {
        let a = arena([1, -2, 0.5], grad: [0, 0, 0])
        Self.expectClose(
            Self.trajectory(a, Adam(a, learningRate: 0.1)),
            [
                [0.9, -1.9, 0.4],
                [0.8196959063846518, -1.8572151424292265, 0.34073514949168426],
                [0.8103259663582117, -1.8698504788773187, 0.29334724598638257],
            ])
    }

    @Test func adamWDecaysTheWeightsDirectly() {
        let a = arena([1, -2, 0.5], grad: [0, 0, 0])
        let adamW = Adam.adamW(a, learningRate: 0.1, weightDecay: 0.1)
        #expect(adamW.decoupledWeightDecay && adamW.beta1 == 0.9 && adamW.beta2 == 0.999 && adamW.eps == 1e-8)
        Self.expectClose(
            Self.trajectory(a, adamW),
            [
                [0.89, -1.88, 0.395],
                [0.8007959063646517, -1.8184151424192265, 0.33178514948668425],
                [0.7834180072745651, -1.8128663274431265, 0.2810793944865157],
            ])
        #expect(Adam.adamW(a).groups.runs.allSatisfy { $0.weightDecay == 0.01 })
    }

    /// 21 parameters (two 8-lane chunks and a tail of 5), three steps of Adam and AdamW: the
    /// same bits as the update written one parameter at a time in Float.
    @Test(arguments: [false, true])
    func adamLanesMatchTheScalarUpdate(decoupled: Bool) {
        let n = 21
        let start = (0..<n).map { Float($0 - 10) / 7 }
        let a = arena(start, grad: [Float](repeating: 0, count: n))
        let optimizer =
            decoupled
            ? Adam.adamW(a, learningRate: 0.01, weightDecay: 0.1) : Adam(a, learningRate: 0.01, weightDecay: 0.1)
        var (p, m, v) = (start, [Float](repeating: 0, count: n), [Float](repeating: 0, count: n))
        for step in 1...3 {
            let g = (0..<n).map { Float(($0 * 5 + step * 3) % 11 - 5) / 4 }
            for i in 0..<n { a.grads.ptr[i] = g[i] }
            optimizer.step()
            // The bias corrections in Double from the Float hyperparameters, as Adam.step makes them.
            let (lr, b1, b2): (Float, Float, Float) = (0.01, 0.9, 0.999)
            let stepSize = Float(Double(lr) / (1 - pow(Double(b1), Double(step))))
            let correction2 = Float((1 - pow(Double(b2), Double(step))).squareRoot())
            for i in 0..<n {
                var grad = g[i]
                if decoupled { p[i] -= lr * 0.1 * p[i] } else { grad += 0.1 * p[i] }
                m[i] = b1 * m[i] + (1 - b1) * grad
                v[i] = b2 * v[i] + (1 - b2) * grad * grad
                p[i] -= stepSize * m[i] / (v[i].squareRoot() / correction2 + 1e-8)
            }
            #expect(a.tensors[0].data.scalars == p, "step \(step), decoupled \(decoupled)")
        }
    }

    @Test func rmspropWithPyTorchDefaults() {
        let a = arena([1, -2, 0.5], grad: [0, 0, 0])
        Self.expectClose(
            Self.trajectory(a, RMSprop(a)),
            [
                [0.90000002, -1.90000001, 0.4],
                [0.8802934383202046, -1.9288675206817028, 0.41],
                [0.9423910822237127, -1.9900593605896055, 0.40748820282966614],
            ], tolerance: 1e-5)
    }

    @Test func rmspropCenteredWithMomentumAndDecay() {
        let a = arena([1, -2, 0.5], grad: [0, 0, 0])
        let rms = RMSprop(a, momentum: 0.9, centered: true, weightDecay: 0.01)
        Self.expectClose(
            Self.trajectory(a, rms),
            [
                [0.8994962382799772, -1.899496228377029, 0.3994962235119889],
                [0.7878941398441552, -1.8357912883830634, 0.31885997675254124],
                [0.7479593437216836, -1.8382515140129998, 0.24361033612879057],
            ], tolerance: 1e-5)
        #expect(Set(rms.state.keys) == ["square_avg", "grad_avg", "momentum_buffer"])
    }

    /// Biases and other one-dimensional parameters get no weight decay in the standard groups.
    @Test func parameterGroupsExemptBiasesAndNorms() {
        let w = Tensor([1, 1, 1, 1], shape: [2, 2], requiresGrad: true)
        let b = Tensor([1, 1], shape: [2], requiresGrad: true)
        let w2 = Tensor([1, 1], shape: [1, 2], requiresGrad: true)
        let a = ParameterArena([("fc.weight", w), ("fc.bias", b), ("out.weight", w2)])
        let groups = ParameterGroups(a, weightDecay: 0.5)
        #expect(groups.undecayed == ["fc.bias"])
        #expect(groups.runs.map(\.weightDecay) == [0.5, 0, 0.5])
        #expect(groups.runs.map(\.range) == [0..<16, 16..<32, 32..<48])
        // With zero gradients only decayed parameters move: p -= lr·wd·p.
        SGD(a, learningRate: 0.1, groups: groups).step()
        #expect(
            w.data.scalars == [0.95, 0.95, 0.95, 0.95] && b.data.scalars == [1, 1] && w2.data.scalars == [0.95, 0.95])
        // Adjacent entries with the same decay merge into one run.
        let merged = ParameterGroups(a, weightDecay: 0.5, decayBiasAndNorm: true).runs
        #expect(merged.map(\.range) == [0..<48] && merged[0].weightDecay == 0.5)
    }
}
