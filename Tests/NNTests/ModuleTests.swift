import Autograd
import Foundation
import NN
import Testing

final class Block: Module {
    var training = true
    let attention = Linear(4, 4, bias: false)
    let norm = LayerNorm(4)
    let layers: [any Layer] = [Linear(4, 3), BatchNorm(3)]
}

@Suite("Modules, parameters and the arena", .serialized)
struct ModuleTests {
    @Test func dottedNamesInRegistrationOrder() {
        let names = Block().namedParameters().map(\.0)
        #expect(
            names == [
                "attention.weight", "norm.weight", "norm.bias", "layers.0.weight", "layers.0.bias",
                "layers.1.weight", "layers.1.bias",
            ])
        #expect(
            Block().namedBuffers().map(\.0) == [
                "layers.1.running_mean", "layers.1.running_var", "layers.1.num_batches_tracked",
            ])
        let seq = Sequential(Linear(3, 5), ActivationLayer(.relu), Linear(5, 2, bias: false))
        #expect(seq.namedParameters().map(\.0) == ["layers.0.weight", "layers.0.bias", "layers.2.weight"])
        #expect(seq.parameterCount == 3 * 5 + 5 + 5 * 2)
    }

    @Test func trainAndEvalReachEveryDescendant() {
        let b = Block()
        b.eval()
        #expect(!b.training && !b.norm.training && !b.layers[1].training)
        b.train()
        #expect(b.layers[1].training)
    }

    @Test func arenaKeepsValuesAndReceivesGradients() {
        Init.seed(4)
        let model = Sequential(Linear(3, 5), ActivationLayer(.relu), Linear(5, 2))
        let before = model.parameters.map(\.data.scalars)
        let arena = model.flattenParameters()
        #expect(model.parameters.map(\.data.scalars) == before)
        #expect(arena.parameterCount == model.parameterCount)
        for e in arena.entries { #expect(e.offset % 16 == 0) }
        let x = Tensor([1, -2, 0.5, 0.3, 0.2, -1], shape: [2, 3])
        Loss.mse(model(x), Tensor([0, 1, 1, 0], shape: [2, 2])).backward()
        // Gradients were written into the arena itself.
        let w0 = model.parameters[0]
        #expect(w0.grad!.storage.raw == arena.grads.storage.raw + arena.entries[0].offset * 4)
        #expect(arena.grads.scalars.contains { $0 != 0 })
        // A second backward accumulates; zeroGrad clears everything in one pass.
        let g1 = arena.grads.scalars
        Loss.mse(model(x), Tensor([0, 1, 1, 0], shape: [2, 2])).backward()
        #expect(zip(arena.grads.scalars, g1).allSatisfy { Swift.abs($0 - 2 * $1) < 1e-6 })
        arena.zeroGrad()
        #expect(arena.grads.scalars.allSatisfy { $0 == 0 })
    }

    @Test func initialisersHaveTheirVariance() {
        Init.seed(6)
        func std(_ a: NDArray) -> Double {
            let v = a.scalars.map(Double.init), m = v.reduce(0, +) / Double(v.count)
            return (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count)).squareRoot()
        }
        let shape: Shape = [256, 128, 3, 3]  // fan_in 1152, fan_out 2304
        #expect(Swift.abs(std(Init.kaimingNormal(shape)) - (2.0 / 1152).squareRoot()) < 1e-3)
        #expect(Swift.abs(std(Init.kaimingUniform(shape)) - (2.0 / 1152).squareRoot()) < 1e-3)
        #expect(Swift.abs(std(Init.xavierUniform(shape)) - (2.0 / (1152 + 2304)).squareRoot()) < 1e-3)
        #expect(Swift.abs(std(Init.xavierNormal(shape)) - (2.0 / (1152 + 2304)).squareRoot()) < 1e-3)
        let bound = 1 / 1152.0.squareRoot()
        #expect(Init.defaultWeight(shape).data.scalars.allSatisfy { Swift.abs(Double($0)) <= bound })
    }

    @Test func batchNormUsesRunningStatisticsInEval() {
        let bn = BatchNorm(2)
        let x = Tensor([1, 2, 3, 4, 5, 6, 7, 8], shape: [4, 2])
        _ = bn(x)
        #expect(bn.runningMean.value.scalars.map { ($0 * 1e4).rounded() / 1e4 } == [0.4, 0.5])
        bn.eval()
        let y = bn(x)
        // eval: (x - running mean) / sqrt(running var + eps)
        let rv = bn.runningVar.value.scalars
        #expect(Swift.abs(y.scalars[0] - (1 - 0.4) / (rv[0] + 1e-5).squareRoot()) < 1e-5)
    }

    @Test func dropoutIsIdentityInEval() {
        let d = Dropout(0.5)
        let x = Tensor(NDArray(repeating: 1, shape: [1000]))
        #expect(d(x).scalars.contains(0))
        d.eval()
        #expect(d(x).scalars.allSatisfy { $0 == 1 })
    }

    @Test func lossValues() {
        let logits = Tensor([0.5, -1, 2, 0], shape: [4]), targets = Tensor([1, 0, 1, 0.5], shape: [4])
        // PyTorch: binary_cross_entropy_with_logits
        let ref =
            zip([0.5, -1, 2, 0.0], [1, 0, 1, 0.5]).map { x, t in
                -(t * Foundation.log(1 / (1 + Foundation.exp(-x))) + (1 - t)
                    * Foundation.log(1 - 1 / (1 + Foundation.exp(-x))))
            }.reduce(0, +) / 4
        #expect(Swift.abs(Double(Loss.bceWithLogits(logits, targets).item) - ref) < 1e-6)
        #expect(Swift.abs(Loss.bceWithLogits(Tensor([100], shape: [1]), Tensor([0], shape: [1])).item - 100) < 1e-4)
        #expect(Loss.mse(Tensor([1, 2], shape: [2]), Tensor([0, 0], shape: [2])).item == 2.5)
        #expect(Loss.l1(Tensor([1, -3], shape: [2]), Tensor([0, 0], shape: [2])).item == 2)
    }

    @Test func huberAndKL() {
        // d = (0.5, -2, 3) with delta 1: 0.125, 1.5, 2.5 → mean 4.125/3.
        let h = Loss.huber(Tensor([0.5, -2, 3], shape: [3]), Tensor([0, 0, 0], shape: [3]))
        #expect(Swift.abs(h.item - 4.125 / 3) < 1e-6)
        #expect(Swift.abs(Loss.huber(Tensor([3], shape: [1]), Tensor([0], shape: [1]), delta: 2).item - 4) < 1e-6)
        // Its gradient is d inside the threshold and delta·sign(d) outside (then / N).
        let x = Tensor([0.5, -2, 3], shape: [3], requiresGrad: true)
        Loss.huber(x, Tensor([0, 0, 0], shape: [3])).backward()
        for (g, want) in zip(x.grad!.scalars, [0.5 / 3, -1.0 / 3, 1.0 / 3]) {
            #expect(Swift.abs(Double(g) - want) < 1e-6)
        }
        // KL of N(mu, e^lv) from N(0, 1): row 1 is the prior itself (0); row 2 by hand.
        let mu = Tensor([0, 0, 1, -0.5], shape: [2, 2]), lv = Tensor([0, 0, 0.5, -1], shape: [2, 2])
        let row2 = -0.5 * ((1 + 0.5 - 1 - Foundation.exp(0.5)) + (1 - 1 - 0.25 - Foundation.exp(-1.0)))
        #expect(Swift.abs(Double(Loss.gaussianKL(mu: mu, logVariance: lv).item) - row2 / 2) < 1e-6)
    }
}
