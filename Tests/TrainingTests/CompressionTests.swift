import Autograd
import Collective
import Foundation
import Models
import NN
import TensorCore
import Testing
@testable import Training

@Suite("Pruning, distillation and int8 quantization")
struct CompressionTests {
    static func pruning(_ yaml: String) throws -> PruningConfig {
        try ConfigLoader.parse(yaml: "optimizer: {name: sgd, lr: 0.1}\npruning: \(yaml)").pruning
    }

    @Test func scheduleFollowsZhuAndGupta() {
        let s = PruningSchedule(initial: 0, final: 0.8, start: 10, end: 50, every: 15)
        #expect(
            s.sparsity(at: 5) == 0 && s.sparsity(at: 10) == 0 && s.sparsity(at: 50) == 0.8 && s.sparsity(at: 70) == 0.8)
        #expect(Swift.abs(s.sparsity(at: 30) - 0.7) < 1e-12)  // 0.8 - 0.8·(1 - 1/2)³
        #expect((0...60).filter { s.updates(at: $0) } == [10, 25, 40, 50])
        let once = PruningSchedule(initial: 0.6, final: 0.6, start: 0, end: 0, every: 100)
        #expect((0...300).filter { once.updates(at: $0) } == [0] && once.sparsity(at: 0) == 0.6)
    }

    /// Global magnitude pruning removes exactly the smallest |w| over all layers; per layer, the same fraction of each.
    @Test func magnitudePruningTakesTheSmallestWeights() throws {
        Init.seed(3)
        let model = MLP(inputs: 10, hiddenSizes: [8], classes: 4)
        _ = model.flattenParameters()
        let all = (model.hidden[0] as! Linear).weight.data.scalars + model.output.weight.data.scalars
        let global = try Pruner(
            config: Self.pruning("{method: magnitude, sparsity: 0.75, end_step: 0}"), model: model, totalSteps: 10)
        #expect(global.update(step: 0) == 0.75)
        let threshold = all.map(\.magnitude).sorted()[Int(0.75 * Double(all.count)) - 1]
        let after = (model.hidden[0] as! Linear).weight.data.scalars + model.output.weight.data.scalars
        #expect(after.filter { $0 == 0 }.count == 84)  // 0.75 of 112
        #expect(zip(all, after).allSatisfy { ($1 == 0) == ($0.magnitude <= threshold) })
        // Biases are not pruned.
        #expect(model.hidden[0] is Linear && (model.hidden[0] as! Linear).bias!.data.scalars.allSatisfy { $0 != 0 })

        let perLayer = try Pruner(
            config: Self.pruning("{method: magnitude, scope: layer, sparsity: 0.5, end_step: 0, exclude: [output]}"),
            model: MLP(inputs: 10, hiddenSizes: [8], classes: 4), totalSteps: 10)
        perLayer.update(step: 0)
        #expect(perLayer.layerSparsity.map(\.name) == ["hidden.0.weight"] && perLayer.layerSparsity[0].sparsity == 0.5)
        #expect(throws: ConfigError.self) {
            try Pruner(config: Self.pruning("{method: magnitude, exclude: [fc9]}"), model: model, totalSteps: 10)
        }
    }

    /// Channel pruning zeroes whole filters with their bias, and the batch norm that follows.
    @Test func channelPruningRemovesWholeFiltersAndTheirNorm() throws {
        Init.seed(4)
        let net = ResNet(inputChannels: 1, channels: [4, 8], blocksPerStage: 1, classes: 3)
        let pruner = try Pruner(
            config: Self.pruning("{method: channels, scope: layer, sparsity: 0.5, end_step: 0}"), model: net,
            totalSteps: 1)
        let norms = (0..<4).map { c in net.stem.weight.data.scalars[(c * 9)..<(c * 9 + 9)].reduce(0) { $0 + $1 * $1 } }
        pruner.update(step: 0)
        let smallest = Set(norms.indices.sorted { norms[$0] < norms[$1] }.prefix(2))
        for c in 0..<4 {
            let zeroed = net.stem.weight.data.scalars[(c * 9)..<(c * 9 + 9)].allSatisfy { $0 == 0 }
            #expect(zeroed == smallest.contains(c), "stem channel \(c)")
            // Batch norm starts at weight 1 and bias 0: only the pruned channels' weights are zero.
            #expect((net.stemNorm.weight!.data.scalars[c] == 0) == smallest.contains(c))
        }
        // Every convolution keeps half of its channels: the output of a pruned one is exactly zero.
        #expect(pruner.layers.count == 6 && pruner.layers.allSatisfy { $0.units.count >= 4 })
        net.eval()
        let y = withNoGrad { net.stemNorm(net.stem(Tensor(NDArray(repeating: 1, shape: [1, 1, 5, 5])))).values }
        for c in smallest { #expect(y.scalars[(c * 25)..<(c * 25 + 25)].allSatisfy { $0 == 0 }) }
    }

    /// Head pruning zeroes a head's query, key and value rows and its columns of the output projection.
    @Test func headPruningRemovesWholeHeads() throws {
        Init.seed(5)
        let gpt = GPT(vocabulary: 11, context: 8, width: 16, layers: 1, heads: 4)
        let pruner = try Pruner(
            config: Self.pruning("{method: heads, scope: layer, sparsity: 0.5, end_step: 0}"), model: gpt, totalSteps: 1
        )
        pruner.update(step: 0)
        let attention = gpt.namedModules().compactMap { $0.1 as? MultiHeadAttention }[0]
        let q = attention.query.weight.data.scalars, o = attention.output.weight.data.scalars
        let dead = (0..<4).filter { h in q[(h * 4 * 16)..<((h + 1) * 4 * 16)].allSatisfy { $0 == 0 } }
        #expect(dead.count == 2)
        for h in 0..<4 {
            let columns: [Float] = (0..<16).flatMap { (r: Int) -> ArraySlice<Float> in
                let start = r * 16 + h * 4
                return o[start..<(start + 4)]
            }
            #expect(columns.allSatisfy { $0 == 0 } == dead.contains(h), "head \(h)")
        }
        #expect(throws: ConfigError.self) {
            try Pruner(config: Self.pruning("{method: heads, scope: layer}"), model: LeNet5(), totalSteps: 1)
        }
    }

    /// Masks keep pruned weights at zero through updates, and a resumed run restores them.
    @Test func masksSurviveUpdatesAndResume() throws {
        let directory = NSTemporaryDirectory() + "tandem-prune-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let settings = [
            "pruning.method=magnitude", "pruning.sparsity=0.6", "pruning.start_step=2", "pruning.end_step=8",
            "pruning.every_steps=3",
            "checkpointing.every_steps=10",
        ]
        let first = try Trainer(
            config: TrainerTests.config(settings + ["training.max_steps=10"]), runDirectory: directory,
            communicator: SingleProcessCommunicator())
        _ = try first.run()
        let zeros = first.pruner!.masked.map { m in m.tensor.data.scalars.map { $0 == 0 } }
        #expect(Swift.abs(first.pruner!.sparsity - 0.6) < 0.01)
        let second = try Trainer(
            config: TrainerTests.config(settings + ["training.max_steps=20"]), runDirectory: directory,
            communicator: SingleProcessCommunicator(), resume: .auto)
        #expect(second.step == 10 && second.pruner!.currentTarget == 0.6)
        _ = try second.run()
        #expect(second.pruner!.masked.map { m in m.tensor.data.scalars.map { $0 == 0 } } == zeros)
    }

    /// model.init_from starts from a finished run's weights; a wrong path is one clear error.
    @Test func initFromLoadsTrainedWeights() throws {
        let directory = NSTemporaryDirectory() + "tandem-init-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let trained = try Trainer(
            config: TrainerTests.config(["training.max_steps=5"]), runDirectory: directory,
            communicator: SingleProcessCommunicator())
        _ = try trained.run()
        let fresh = try Trainer(
            config: TrainerTests.config(["seed=7"]), runDirectory: nil, communicator: SingleProcessCommunicator())
        let started = try Trainer(
            config: TrainerTests.config(["seed=7", "model.init_from=\(directory)"]), runDirectory: nil,
            communicator: SingleProcessCommunicator())
        #expect(TrainerTests.parameters(started) == TrainerTests.parameters(trained))
        #expect(TrainerTests.parameters(fresh) != TrainerTests.parameters(trained))
        #expect {
            try Trainer(
                config: TrainerTests.config(["model.init_from=/nonexistent"]), runDirectory: nil,
                communicator: SingleProcessCommunicator())
        } throws: {
            "\($0)".contains("model.init_from /nonexistent: cannot read model weights /nonexistent/model.safetensors")
        }
    }

    /// KL(softmax(t/T) ‖ softmax(s/T)) and its gradient (q - p) / (T·rows).
    @Test func distillationLossAndGradient() {
        let s: [Float] = [1, 2, 0.5, -1, 0, 3], t: [Float] = [2, 1, 0, 0.5, 0.5, 2], temperature: Float = 2
        let student = Tensor(NDArray(s, shape: [2, 3]), requiresGrad: true)
        let loss = Loss.distillationKL(student, teacher: NDArray(t, shape: [2, 3]), temperature: temperature)
        loss.backward()
        func softmax(_ x: ArraySlice<Float>) -> [Double] {
            let e = x.map { Foundation.exp(Double($0) / Double(temperature)) }, z = e.reduce(0, +)
            return e.map { $0 / z }
        }
        var kl = 0.0, gradient: [Double] = []
        for row in 0..<2 {
            let p = softmax(t[(row * 3)..<(row * 3 + 3)]), q = softmax(s[(row * 3)..<(row * 3 + 3)])
            kl += zip(p, q).reduce(0) { $0 + $1.0 * Foundation.log($1.0 / $1.1) } / 2
            gradient += zip(p, q).map { ($1 - $0) / (Double(temperature) * 2) }
        }
        #expect(Swift.abs(Double(loss.item) - kl) < 1e-6)
        #expect(zip(student.grad!.scalars, gradient).allSatisfy { Swift.abs(Double($0) - $1) < 1e-6 })
    }

    /// The int8 LeNet-5 follows the fp32 one: the inference plan reproduces the model, and the
    /// int8 logits (NHWC activations, permuted flatten) stay close to the fp32 ones.
    @Test func int8LeNetTracksFloat() throws {
        Init.seed(6)
        let net = LeNet5()
        net.eval()
        var rng = PhiloxRNG(seed: 9)
        let x = NDArray(shape: [37, 1, 28, 28], zeroed: false)
        rng.fillUniform(x.ptr, x.count, low: -0.8, high: 2)
        let plan = try InferencePlan(net, name: ModelName(rawValue: "lenet5")!)
        let reference = withNoGrad { net.logits(x).values.scalars }
        #expect(plan.run(x).scalars == reference)
        for method in ActivationCalibration.Method.allCases {
            let ranges = ActivationCalibration.ranges(plan: plan, batches: [x], method: method, percentile: 99.99)
            let tensors = Dictionary(uniqueKeysWithValues: QuantizedModel.quantize(plan, ranges: ranges))
            #expect(tensors["c3.weight"]!.dtype == .int8 && tensors["c3.weight"]!.shape.dims == [16, 6, 5, 5])
            let int8 = try QuantizedModel(plan: plan, tensors: tensors, inputShape: [1, 28, 28]).logits(x).values
                .scalars
            let spread = reference.map(\.magnitude).max()!
            let worst = zip(int8, reference).map { Swift.abs($0 - $1) }.max()!
            #expect(worst < 0.05 * spread, "\(method): largest difference \(worst) against logits up to \(spread)")
        }
        #expect(throws: ConfigError.self) {
            try InferencePlan(
                GPT(vocabulary: 5, context: 4, width: 8, layers: 1, heads: 2), name: ModelName(rawValue: "gpt")!)
        }
    }
}
