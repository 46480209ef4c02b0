import Datasets
import Models
import NN
import Testing
@testable import Training

/// `model.activation` in the built-in MLP and CNNs: the default keeps ReLU, any other choice
/// reaches every nonlinearity of the model.
@Suite("Activations chosen by config", .serialized)
struct ModelActivationTests {
    static let images = "data: {name: synthetic, synthetic: {samples: 40, test_samples: 20}}\noptimizer: {lr: 0.1}\n"

    static func logits(_ model: String, _ activation: String?) throws -> (any Classifier, [Float]) {
        let config = try ConfigLoader.parse(
            yaml: Self.images + "model: {name: \(model)\(activation.map { ", activation: \($0)" } ?? "")}")
        let data = try DataSplits.load(config.data, seed: 0)
        let model = try #require(try ModelFactory.make(config.model, for: data.train, seed: 0) as? any Classifier)
        model.eval()
        return (model, model.logits(data.train.batch([0, 1, 2]).inputs).scalars)
    }

    /// relu is the default and the published form; tanh changes the outputs of every model.
    @Test(arguments: ["mlp", "lenet5", "resnet", "mobilenet", "inception"])
    func activationReachesTheModel(name: String) throws {
        let (_, implicit) = try Self.logits(name, nil)
        let (_, relu) = try Self.logits(name, "relu")
        let (model, tanh) = try Self.logits(name, "tanh")
        #expect(implicit == relu)
        #expect(implicit != tanh)
        // Every activation module or property of the model is tanh.
        let functions = model.namedModules().compactMap { ($0.1 as? ActivationLayer)?.function }
        #expect(functions.allSatisfy { $0 == .tanh })
        let stored: [Activation] = model.namedModules().compactMap { _, m in
            (m as? LeNet5)?.activation ?? (m as? MLP)?.activation ?? (m as? ResNet)?.activation
                ?? (m as? BasicBlock)?.activation ?? (m as? MobileNet)?.activation
                ?? (m as? DepthwiseSeparable)?.activation
        }
        #expect(stored.allSatisfy { $0 == .tanh })
        #expect(!functions.isEmpty || !stored.isEmpty)
    }

    /// LeNet-5 with gelu computes exactly its layers with GELU between them.
    @Test func leNet5WithGeluIsItsLayersWithGelu() throws {
        let (model, y) = try Self.logits("lenet5", "gelu")
        let net = try #require(model as? LeNet5)
        let config = try ConfigLoader.parse(yaml: Self.images)
        let x = Tensor(try DataSplits.load(config.data, seed: 0).train.batch([0, 1, 2]).inputs)
        var h = net.s2(net.c1(x).gelu())
        h = net.s4(net.c3(h).gelu()).flattened(from: 1)
        h = net.f6(net.f5(h).gelu()).gelu()
        #expect(net.output(h).scalars == y)
    }

    /// An int8 model keeps ReLU's fused steps only for ReLU models; another activation has no int8 path.
    @Test func int8NeedsRelu() throws {
        let entry = ModelRegistry.entries.first { $0.name == "lenet5" }!
        #expect(entry.int8Steps?(LeNet5()) != nil)
        #expect(entry.int8Steps?(LeNet5(activation: .tanh)) == nil)
    }
}
