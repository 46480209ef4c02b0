import Models
import NN
@testable import ONNX
import Testing

/// The MLPs and CNNs of the zoo, exported and run by onnxruntime on the inputs Tandem scored.
@Suite("ONNX export: MLPs and CNNs against onnxruntime")
struct FeedForwardExportTests {
    typealias Check = ONNXRuntimeCheck

    /// Trains a classifier briefly, then compares onnxruntime's logits with Tandem's.
    static func classifier(
        _ name: String, _ model: any Classifier, sample: [Int], classes: Int, opset: Int = 17
    ) throws -> Double {
        let batches = (0..<3).map { s in
            (Check.floats([4] + sample, seed: 10 + UInt64(s)), Check.labels(4, classes: classes, seed: 20 + UInt64(s)))
        }
        Check.train(model, batches: batches)
        let x = Check.floats([3] + sample, seed: 99)
        let logits = withNoGrad { model.logits(x).values }
        return try Check.check(
            name, model, input: .init(shape: sample, tokens: false), opset: opset, feeds: [("input", x)],
            expected: [("logits", logits)]
        ).error
    }

    @Test func mlpWithDropoutAndExactGELU() throws {
        let model = MLP(inputs: 12, hiddenSizes: [16, 8], classes: 5, dropout: 0.2, activation: .geluErf)
        #expect(try Self.classifier("mlp", model, sample: [3, 2, 2], classes: 5) < Check.tolerance)
    }

    @Test(arguments: [17, 20, 21]) func mlpAtEveryOpset(opset: Int) throws {
        let model = MLP(inputs: 6, hiddenSizes: [8], classes: 3, activation: .geluTanh)
        #expect(
            try Self.classifier("mlp-opset\(opset)", model, sample: [6], classes: 3, opset: opset) < Check.tolerance)
    }

    @Test(arguments: [
        Activation.relu, .leakyRelu(slope: 0.1), .elu(alpha: 0.7), .sigmoid, .tanh, .silu,
        .softplus(beta: 1, threshold: 20), .softplus(beta: 2, threshold: 20),
    ])
    func mlpActivations(activation: Activation) throws {
        let model = MLP(inputs: 6, hiddenSizes: [8], classes: 3, activation: activation)
        #expect(try Self.classifier("mlp-\(activation)", model, sample: [6], classes: 3) < Check.tolerance)
    }

    @Test func mlpRegressor() throws {
        let model = MLPRegressor(
            inputs: 6, hiddenSizes: [8, 8], outputs: 2, loss: .huber(delta: 1), activation: .silu)
        let batches = (0..<3).map { s in
            (Check.floats([4, 6], seed: 30 + UInt64(s)), Check.floats([4, 2], seed: 40 + UInt64(s)))
        }
        Check.train(model, batches: batches)
        let x = Check.floats([3, 6], seed: 98)
        let y = withNoGrad { model.predictions(x).values }
        let error = try Check.check(
            "mlp-regressor", model, input: .init(shape: [6], tokens: false), feeds: [("input", x)],
            expected: [("predictions", y)]
        ).error
        #expect(error < Check.tolerance)
    }

    @Test func leNet5() throws {
        let model = LeNet5(classes: 10, dropout: 0.3)
        #expect(try Self.classifier("lenet5", model, sample: [1, 28, 28], classes: 10) < Check.tolerance)
    }

    @Test func resNetWithProjectionShortcut() throws {
        let model = ResNet(inputChannels: 1, channels: [4, 8], blocksPerStage: 1, classes: 3)
        #expect(model.blocks[1].projection != nil)
        #expect(try Self.classifier("resnet", model, sample: [1, 8, 8], classes: 3) < Check.tolerance)
    }

    @Test func mobileNet() throws {
        let model = MobileNet(inputChannels: 2, channels: [4, 8, 8], classes: 3)
        #expect(try Self.classifier("mobilenet", model, sample: [2, 8, 8], classes: 3) < Check.tolerance)
    }

    @Test func inceptionNet() throws {
        let model = InceptionNet(inputChannels: 1, channels: [4, 4, 4], classes: 3)
        #expect(try Self.classifier("inception", model, sample: [1, 8, 8], classes: 3) < Check.tolerance)
    }

    @Test func batchNormExportsTheRunningStatisticsUnderTheirNames() throws {
        let model = ResNet(inputChannels: 1, channels: [4], blocksPerStage: 1, classes: 3)
        _ = try Self.classifier("resnet-names", model, sample: [1, 8, 8], classes: 3)
        let proto = try Onnx_ModelProto(
            serializedBytes: try ONNXExport.export(
                model, input: .init(shape: [1, 8, 8], tokens: false)
            ).data)
        let names = Set(proto.graph.initializer.map(\.name))
        for name in model.namedParameters().map(\.0) + Check.statisticNames(model) {
            #expect(names.contains(name), "no initializer \(name)")
        }
        let mean = try #require(proto.graph.initializer.first { $0.name == Check.statisticNames(model)[0] })
        #expect(mean.dims == [4] && mean.dataType == 1)
        #expect(proto.graph.input.map(\.name) == ["input"] && proto.graph.output.map(\.name) == ["logits"])
        #expect(proto.graph.input[0].type.tensorType.shape.dim[0].dimParam == "batch")
    }
}
