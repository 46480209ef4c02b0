import Models
import NN
@testable import ONNX
import Testing
import Training

/// Every model family of the zoo quantized by calibration, exported in QDQ form, and run by
/// onnxruntime against Tandem's int8 outputs on the same inputs.
@Suite("ONNX export: int8 (QDQ) models against onnxruntime")
struct Int8ExportTests {
    typealias Check = ONNXRuntimeCheck

    /// The graph rounds every activation as Tandem does (see `GraphBuilder.quantizedInput`), so
    /// what is left is fp32 summation order (onnxruntime multiplies dequantized fp32 values where
    /// Tandem sums int32 and scales once): measured at most 1.9e-7, fp32 rounding, on every model
    /// here. A rounding that differed would move an input a whole step (1/127 of its range),
    /// orders of magnitude more, so the fp32 bound of 1e-4 holds the graphs to Tandem's rounding.
    static let tolerance = 1e-4

    /// Calibrates `model` on `batches` (its sites quantized in place).
    /// - Returns: the number of quantized sites.
    @discardableResult
    static func quantize(_ model: any TrainableModel, _ batches: [(NDArray, NDArray)]) throws -> Int {
        try Int8Calibration.quantize(
            model, batches: batches.map { (inputs: $0.0, targets: $0.1) }, method: .minmax, percentile: 99.99,
            modelName: "test"
        ).count
    }

    /// Exports `model` (quantized) and checks it with onnxruntime; the graph must hold `sites`
    /// QDQ layers: a QuantizeLinear per input and a DequantizeLinear per input and per weight.
    static func check(
        _ name: String, _ model: any Module, input: ONNXExport.Input, sites: Int, feeds: [(String, NDArray)],
        expected: [(String, NDArray)]
    ) throws -> Double {
        let (error, exported) = try Check.check(
            "int8-" + name, model, input: input, feeds: feeds, expected: expected, tolerance: tolerance)
        let graph = try Onnx_ModelProto(serializedBytes: exported.data).graph
        let count = { (op: String) in graph.node.filter { $0.opType == op }.count }
        #expect(count("QuantizeLinear") == sites && count("DequantizeLinear") == 2 * sites, "\(name)")
        #expect(count("Clip") >= sites)
        let int8 = graph.initializer.filter { $0.dataType == ONNXValue.Element.int8.rawValue && $0.dims.count >= 2 }
        #expect(int8.count == sites, "\(name): \(int8.map(\.name))")
        // The fp32 weights they replace are not in the file (no zoo model shares one).
        let names = Set(graph.initializer.map(\.name))
        let fp32 = int8.map { String($0.name.dropLast("_quantized".count)) }.filter(names.contains)
        #expect(fp32.isEmpty, "\(name): fp32 copies \(fp32)")
        return error
    }

    /// Trains a classifier briefly, quantizes it on its training batches, compares the logits.
    static func classifier(_ name: String, _ model: any Classifier, sample: [Int], classes: Int, sites: Int) throws
        -> Double
    {
        let batches = (0..<3).map { s in
            (Check.floats([4] + sample, seed: 10 + UInt64(s)), Check.labels(4, classes: classes, seed: 20 + UInt64(s)))
        }
        Check.train(model, batches: batches)
        #expect(try quantize(model, batches) == sites)
        let x = Check.floats([3] + sample, seed: 99)
        let logits = withNoGrad { model.logits(x).values }
        return try check(
            name, model, input: .init(shape: sample, tokens: false), sites: sites, feeds: [("input", x)],
            expected: [("logits", logits)])
    }

    @Test func mlp() throws {
        let model = MLP(inputs: 12, hiddenSizes: [16, 8], classes: 5, activation: .geluErf)
        #expect(try Self.classifier("mlp", model, sample: [3, 2, 2], classes: 5, sites: 3) < Self.tolerance)
    }

    /// Inputs on and beside the rounding halves of the first layer's quantization, where
    /// QuantizeLinear's round(x/s) + z and Tandem's round(x·(1/s) + z) part ways: the graph
    /// must round them as Tandem does.
    @Test func inputsOnRoundingHalves() throws {
        let model = MLP(inputs: 6, hiddenSizes: [8], classes: 3)
        let batches = (0..<3).map { s in
            (Check.floats([4, 6], seed: 30 + UInt64(s)), Check.labels(4, classes: 3, seed: 1))
        }
        Check.train(model, batches: batches)
        try Self.quantize(model, batches)
        let first = try #require((model.hidden[0] as? Linear)?.int8?.weights)
        let (scale, zero) = (first.inputScale, Float(first.inputZeroPoint))
        var values: [Float] = []
        for k in -4..<132 {
            let half = scale * (Float(k) + 0.5 - zero)
            values += [half.nextDown, half, half.nextUp]
        }
        while values.count % 6 != 0 { values.append(0) }
        // Where the two roundings differ on these inputs, which is what the graph must not do.
        let apart = values.filter { x in
            let tandem = (x * (1 / scale) + zero).rounded(.toNearestOrEven)
            let quantizeLinear = (x / scale).rounded(.toNearestOrEven) + zero
            return min(max(tandem, 0), 127) != min(max(quantizeLinear, 0), 127)
        }
        #expect(!apart.isEmpty)
        let x = NDArray(values, shape: [values.count / 6, 6])
        let logits = withNoGrad { model.logits(x).values }
        let error = try Self.check(
            "mlp-halves", model, input: .init(shape: [6], tokens: false), sites: 2, feeds: [("input", x)],
            expected: [("logits", logits)])
        print("int8 mlp on rounding halves: \(apart.count) of \(values.count) inputs would round apart")
        #expect(error < Self.tolerance)
    }

    @Test func leNet5() throws {
        #expect(try Self.classifier("lenet5", LeNet5(), sample: [1, 28, 28], classes: 10, sites: 5) < Self.tolerance)
    }

    @Test func convolutionalNetworks() throws {
        let models: [(String, any Classifier, [Int])] = [
            ("resnet", ResNet(inputChannels: 1, channels: [4, 8], blocksPerStage: 1, classes: 3), [1, 8, 8]),
            ("mobilenet", MobileNet(inputChannels: 2, channels: [4, 8, 8], classes: 3), [2, 8, 8]),
            ("inception", InceptionNet(inputChannels: 1, channels: [4, 4, 4], classes: 3), [1, 8, 8]),
        ]
        for (name, model, sample) in models {
            // Every convolution (depthwise and the projection shortcut too) and the head.
            let sites = Int8Site.all(in: model).count
            let error = try Self.classifier(name, model, sample: sample, classes: 3, sites: sites)
            #expect(error < Self.tolerance, "\(name)")
        }
    }

    /// A declared CNN: convolutions around batch norm, PReLU, pools, a residual block with a
    /// projection, a transposed convolution (fp32) and layer norm.
    @Test func sequentialConvolutions() throws {
        let model = SequentialClassifier([
            ("c1", Conv2d(2, 4, kernel: 3, padding: 1)), ("bn1", BatchNorm(4)), ("act1", PReLU(channels: 4)),
            ("pool1", MaxPool2d(kernel: 3, stride: 2, padding: 1)),
            (
                "res",
                Residual(
                    [("c", Conv2d(4, 6, kernel: 3, padding: 1, bias: false)), ("act", ActivationLayer(.relu))],
                    projection: Conv2d(4, 6, kernel: 1, bias: false))
            ),
            ("up", ConvTranspose2d(6, 4, kernel: (2, 2), stride: (2, 2))), ("gap", GlobalAvgPool2d()),
            ("ln", LayerNorm(4)), ("fc", Linear(4, 3)),
        ])
        #expect(try Self.classifier("sequential-cnn", model, sample: [2, 8, 8], classes: 3, sites: 4) < Self.tolerance)
    }

    /// Declared recurrent layers: both of the LSTM's input projections and the GRU's in QDQ.
    @Test func sequentialRecurrentLayers() throws {
        let model = SequentialClassifier([
            ("embed", Embedding(9, 4)),
            ("lstm", RecurrentLayer(Recurrent(.lstm, inputSize: 4, hiddenSize: 5, layers: 2), keepsSequence: true)),
            ("gru", RecurrentLayer(Recurrent(.gru, inputSize: 5, hiddenSize: 6), keepsSequence: false)),
            ("out", Linear(6, 3)),
        ])
        let error = try Self.tokenModel(
            "sequential-recurrent", model, shape: [4, 5], vocabulary: 9, evaluate: [3, 5],
            targets: { Check.labels(4, classes: 3, seed: 9 + UInt64($0)) }, logitsShape: [3, 3])
        #expect(error < Self.tolerance)
    }

    @Test func regressors() throws {
        let models: [(String, any Regressor)] = [
            ("mlp-regressor", MLPRegressor(inputs: 6, hiddenSizes: [8, 8], outputs: 2, loss: .mse, activation: .silu)),
            (
                "sequential-regressor",
                SequentialRegressor(
                    [("fc1", Linear(6, 8)), ("act", ActivationLayer(.tanh)), ("fc2", Linear(8, 2))], outputs: 2,
                    loss: .mse)
            ),
        ]
        for (name, model) in models {
            let batches = (0..<3).map { (Check.floats([4, 6], seed: UInt64($0)), Check.floats([4, 2], seed: 7)) }
            Check.train(model, batches: batches)
            let sites = try Self.quantize(model, batches)
            let x = Check.floats([3, 6], seed: 88)
            let y = withNoGrad { model.predictions(x).values }
            let error = try Self.check(
                name, model, input: .init(shape: [6], tokens: false), sites: sites, feeds: [("input", x)],
                expected: [("predictions", y)])
            #expect(sites == Int8Site.all(in: model).count && error < Self.tolerance, "\(name)")
        }
    }

    @Test func visionTransformer() throws {
        let model = VisionTransformer(imageSize: (1, 8, 8), patch: 4, width: 8, layers: 2, heads: 2, classes: 3)
        let sites = Int8Site.all(in: model).count
        #expect(try Self.classifier("vit", model, sample: [1, 8, 8], classes: 3, sites: sites) < Self.tolerance)
    }

    /// A token model trained and calibrated on random ids.
    static func tokenModel(
        _ name: String, _ model: any Classifier, shape: [Int], vocabulary: Int, evaluate: [Int],
        targets: (Int) -> NDArray, logitsShape: [Int]
    ) throws -> Double {
        let batches = (0..<3).map { s in
            (Check.tokens(shape, vocabulary: vocabulary, seed: 50 + UInt64(s)), targets(s))
        }
        Check.train(model, batches: batches)
        let sites = try quantize(model, batches)
        #expect(sites == Int8Site.all(in: model).count, "\(name)")
        let ids = Check.tokens(evaluate, vocabulary: vocabulary, seed: 97)
        let logits = withNoGrad { model.logits(ids).values }.reshaped(Shape(logitsShape))
        return try check(
            name, model, input: .init(shape: [shape[1]], tokens: true), sites: sites, feeds: [("input_ids", ids)],
            expected: [("logits", logits)])
    }

    @Test func gpt() throws {
        let model = GPT(vocabulary: 11, context: 8, width: 8, layers: 2, heads: 2)
        let error = try Self.tokenModel(
            "gpt", model, shape: [4, 8], vocabulary: 11, evaluate: [3, 6],
            targets: { Check.tokens([32], vocabulary: 11, seed: 70 + UInt64($0)) }, logitsShape: [3, 6, 11])
        #expect(error < Self.tolerance)
    }

    @Test func charMLP() throws {
        let model = CharMLP(vocabulary: 7, context: 3, embeddingSize: 4, hiddenSize: 8)
        let error = try Self.tokenModel(
            "charmlp", model, shape: [4, 3], vocabulary: 7, evaluate: [3, 3],
            targets: { Check.labels(4, classes: 7, seed: UInt64($0)) }, logitsShape: [3, 7])
        #expect(error < Self.tolerance)
    }

    /// The input projections run as QDQ MatMuls before the recurrent operator, which
    /// multiplies by the identity.
    @Test(arguments: [Recurrent.Kind.rnn, .lstm, .gru])
    func recurrentModels(kind: Recurrent.Kind) throws {
        let classifier = SequenceClassifier(kind, vocabulary: 9, embeddingSize: 4, hiddenSize: 5, layers: 2, classes: 3)
        var error = try Self.tokenModel(
            "sequence-\(kind)", classifier, shape: [4, 6], vocabulary: 9, evaluate: [3, 7],
            targets: { Check.labels(4, classes: 3, seed: UInt64($0)) }, logitsShape: [3, 3])
        #expect(error < Self.tolerance)
        let language = RecurrentLanguageModel(kind, vocabulary: 9, embeddingSize: 4, hiddenSize: 6, layers: 2)
        error = try Self.tokenModel(
            "language-\(kind)", language, shape: [4, 5], vocabulary: 9, evaluate: [3, 5],
            targets: { Check.tokens([20], vocabulary: 9, seed: 60 + UInt64($0)) }, logitsShape: [3, 5, 9])
        #expect(error < Self.tolerance)
    }

    @Test func seq2SeqTransformer() throws {
        let model = Seq2SeqTransformer(vocabulary: 9, sourceLength: 5, targetLength: 4, width: 8, layers: 2, heads: 2)
        let batches = (0..<3).map { s in
            (Check.tokens([4, 9], vocabulary: 9, seed: 80 + UInt64(s)), Check.tokens([16], vocabulary: 9, seed: 85))
        }
        Check.train(model, batches: batches)
        let sites = try Self.quantize(model, batches)
        let packed = Check.tokens([3, 9], vocabulary: 9, seed: 93)
        let logits = withNoGrad { model.logits(packed).values }.reshaped([3, 4, 9])
        let ids = packed.indices
        let source = NDArray(indices: (0..<3).flatMap { ids[($0 * 9)..<($0 * 9 + 5)] }, shape: [3, 5])
        let decoder = NDArray(indices: (0..<3).flatMap { ids[($0 * 9 + 5)..<($0 * 9 + 9)] }, shape: [3, 4])
        let error = try Self.check(
            "seq2seq", model, input: .init(shape: [9], tokens: true), sites: sites,
            feeds: [("source_ids", source), ("decoder_input_ids", decoder)], expected: [("logits", logits)])
        #expect(error < Self.tolerance)
    }

    static func images(_ seed: UInt64) -> NDArray { Check.floats([4, 1, 4, 4], seed: seed, unit: true) }

    @Test func autoencoderAndVariationalDecoder() throws {
        let batches = (0..<3).map { (Self.images(UInt64($0)), Self.images(UInt64($0))) }
        let ae = Autoencoder(imageShape: [1, 4, 4], hidden: 8, code: 3)
        Check.train(ae, batches: batches)
        let sites = try Self.quantize(ae, batches)
        let x = Check.floats([3, 1, 4, 4], seed: 92, unit: true)
        let (code, image) = withNoGrad {
            let code = ae.encode(Tensor(x))
            return (code.values, ae.decode(code).sigmoid().values.reshaped([3, 1, 4, 4]))
        }
        var error = try Self.check(
            "autoencoder", ae, input: .init(shape: [1, 4, 4], tokens: false), sites: sites, feeds: [("input", x)],
            expected: [("code", code), ("reconstruction", image)])
        #expect(sites == 4 && error < Self.tolerance)

        let vae = VariationalAutoencoder(imageShape: [1, 4, 4], hidden: 8, latent: 2)
        Check.train(vae, batches: batches)
        try Self.quantize(vae, batches)
        let z = Check.floats([3, 2], seed: 91)
        let decoded = withNoGrad { vae.decode(Tensor(z)).sigmoid().values }.reshaped([3, 1, 4, 4])
        // The graph is the decoder alone: its two linear layers.
        error = try Self.check(
            "vae-decoder", vae, input: .init(shape: [1, 4, 4], tokens: false), sites: 2, feeds: [("z", z)],
            expected: [("image", decoded)])
        #expect(error < Self.tolerance)
    }

    @Test func dcganGenerator() throws {
        let model = DCGAN(imageShape: [1, 8, 8], latent: 4, width: 4)
        for (name, p) in model.generator.namedParameters() where !name.contains("orm") {
            p.data = Init.normal(p.shape, std: 0.5)
        }
        let real = (0..<3).map { s in Check.floats([4, 1, 8, 8], seed: 40 + UInt64(s), unit: true) }
        Check.train(model, batches: real.map { ($0, $0) })
        try Self.quantize(model, real.map { ($0, $0) })
        let z = Check.floats([3, 4], seed: 90)
        let image = withNoGrad { (model.generator(Tensor(z)) * 0.5 + 0.5).values }
        // The generator's one linear layer (its transposed convolutions have no int8 form).
        let error = try Self.check(
            "dcgan-generator", model, input: .init(shape: [1, 8, 8], tokens: false), sites: 1, feeds: [("z", z)],
            expected: [("image", image)])
        #expect(error < Self.tolerance)
    }
}
