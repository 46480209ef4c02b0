import Autograd
import Checkpoint
import Foundation
import Models
import NN
import TensorCore
import Testing
@testable import Training

/// Every model of the zoo in int8 by calibration: logits close to fp32 on data like the
/// calibration data, and the per-layer file written, read back and checked.
@Suite("Int8 for every model", .serialized)
struct Int8ZooTests {
    static func images(_ shape: [Int], seed: UInt64) -> NDArray {
        var rng = PhiloxRNG(seed: seed)
        let x = NDArray(shape: Shape(shape), zeroed: false)
        rng.fillUniform(x.ptr, x.count, low: -0.4, high: 2.8)  // normalised Fashion-MNIST's range
        return x
    }

    static func tokens(_ shape: [Int], vocabulary: Int, seed: UInt64) -> NDArray {
        var rng = PhiloxRNG(seed: seed)
        let n = shape.reduce(1, *)
        let u = NDArray(shape: [n], zeroed: false)
        rng.fillUniform(u.ptr, n, low: 0, high: Float(vocabulary))
        return NDArray(indices: u.scalars.map { Int32(min(Float(vocabulary - 1), $0)) }, shape: Shape(shape))
    }

    /// ‖int8 - fp32‖ / ‖fp32‖.
    static func relativeError(_ a: [Float], _ b: [Float]) -> Float {
        let diff = zip(a, b).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        return (diff / max(b.reduce(0) { $0 + $1 * $1 }, 1e-12)).squareRoot()
    }

    /// Calibrates `model` on one batch, then compares `output` on another batch in int8 and fp32.
    /// - Returns: the relative error and the quantized sites.
    static func check(
        _ model: any TrainableModel, calibrate: NDArray, evaluate: NDArray, targets: NDArray,
        output: (NDArray) -> [Float]
    ) throws -> (error: Float, layers: [Int8Calibration.Layer]) {
        model.eval()
        let fp32 = withNoGrad { output(evaluate) }
        let layers = try Int8Calibration.quantize(
            model, batches: [(calibrate, targets)], method: .minmax, percentile: 99.99, modelName: "test")
        let int8 = withNoGrad { output(evaluate) }
        #expect(int8 != fp32, "int8 ran nowhere")
        return (relativeError(int8, fp32), layers)
    }

    static func logits(_ model: any Classifier) -> (NDArray) -> [Float] { { model.logits($0).scalars } }

    /// The CNNs: batch norm and residual adds fp32, every convolution int8 (MobileNet's
    /// depthwise ones and Inception's branches too).
    @Test func convolutionalNetworksTrackFloat() throws {
        let labels = NDArray(indices: (0..<16).map { Int32($0 % 10) }, shape: [16])
        let models: [(String, any Classifier, Int)] = [
            ("resnet", ResNet(channels: [8, 16], blocksPerStage: 1), 6),
            ("mobilenet", MobileNet(channels: [8, 16, 16]), 6),
            ("inception", InceptionNet(channels: [8, 8, 16]), 3),
            ("lenet5", LeNet5(), 5),
        ]
        for (i, (name, model, minimumSites)) in models.enumerated() {
            Init.seed(UInt64(40 + i))
            let (error, layers) = try Self.check(
                model, calibrate: Self.images([16, 1, 28, 28], seed: 1),
                evaluate: Self.images([16, 1, 28, 28], seed: 2),
                targets: labels, output: Self.logits(model))
            #expect(layers.count >= minimumSites, "\(name): \(layers.map(\.site.name))")
            #expect(error < 0.08, "\(name): relative error \(error)")
        }
        let depthwise = Int8Site.all(in: MobileNet(channels: [8, 16, 16])).filter { $0.groups > 1 }
        #expect(!depthwise.isEmpty)
    }

    /// The transformers: every linear layer int8 (attention's projections, the MLPs, the
    /// heads), layer norm and softmax fp32.
    @Test func transformersTrackFloat() throws {
        Init.seed(50)
        let gpt = GPT(vocabulary: 17, context: 12, width: 16, layers: 2, heads: 2)
        let tokens = Self.tokens([6, 12], vocabulary: 17, seed: 3)
        var result = try Self.check(
            gpt, calibrate: Self.tokens([6, 12], vocabulary: 17, seed: 4), evaluate: tokens,
            targets: Self.tokens([6, 12], vocabulary: 17, seed: 5), output: Self.logits(gpt))
        #expect(result.error < 0.08 && result.layers.count >= 8, "gpt: \(result.error), \(result.layers.count)")

        Init.seed(51)
        let vit = VisionTransformer(imageSize: (1, 28, 28), patch: 7, width: 16, layers: 2, heads: 2, classes: 10)
        result = try Self.check(
            vit, calibrate: Self.images([8, 1, 28, 28], seed: 6), evaluate: Self.images([8, 1, 28, 28], seed: 7),
            targets: NDArray(indices: (0..<8).map { Int32($0) }, shape: [8]), output: Self.logits(vit))
        #expect(result.error < 0.08 && result.layers.count >= 8, "vit: \(result.error), \(result.layers.count)")

        Init.seed(52)
        let s2s = Seq2SeqTransformer(vocabulary: 11, sourceLength: 6, targetLength: 5, width: 16, layers: 1, heads: 2)
        result = try Self.check(
            s2s, calibrate: Self.tokens([8, 11], vocabulary: 11, seed: 8),
            evaluate: Self.tokens([8, 11], vocabulary: 11, seed: 9),
            targets: Self.tokens([8, 5], vocabulary: 11, seed: 10), output: Self.logits(s2s))
        #expect(result.error < 0.08 && result.layers.count >= 8, "seq2seq: \(result.error), \(result.layers.count)")
    }

    /// The recurrent models (their input projections int8, the state updates fp32) and CharMLP.
    @Test func recurrentModelsTrackFloat() throws {
        for (i, kind) in [Recurrent.Kind.rnn, .lstm, .gru].enumerated() {
            Init.seed(UInt64(60 + i))
            let lm = RecurrentLanguageModel(kind, vocabulary: 13, embeddingSize: 8, hiddenSize: 16, layers: 2)
            let result = try Self.check(
                lm, calibrate: Self.tokens([4, 20], vocabulary: 13, seed: 11),
                evaluate: Self.tokens([4, 20], vocabulary: 13, seed: 12),
                targets: Self.tokens([4, 20], vocabulary: 13, seed: 13), output: Self.logits(lm))
            let names = result.layers.map(\.site.name)
            #expect(names.filter { $0.hasSuffix(".input") }.count == 2, "\(kind): \(names)")
            #expect(result.error < 0.08, "\(kind) language model: \(result.error)")

            let classifier = SequenceClassifier(kind, vocabulary: 13, embeddingSize: 8, hiddenSize: 16, classes: 4)
            let c = try Self.check(
                classifier, calibrate: Self.tokens([8, 15], vocabulary: 13, seed: 14),
                evaluate: Self.tokens([8, 15], vocabulary: 13, seed: 15),
                targets: Self.tokens([8], vocabulary: 4, seed: 16), output: Self.logits(classifier))
            #expect(c.error < 0.08, "\(kind) classifier: \(c.error)")
        }
        Init.seed(63)
        let charMLP = CharMLP(vocabulary: 13, context: 6, embeddingSize: 8, hiddenSize: 32)
        let result = try Self.check(
            charMLP, calibrate: Self.tokens([16, 6], vocabulary: 13, seed: 17),
            evaluate: Self.tokens([16, 6], vocabulary: 13, seed: 18),
            targets: Self.tokens([16], vocabulary: 13, seed: 19), output: Self.logits(charMLP))
        #expect(result.error < 0.08, "char_mlp: \(result.error)")
    }

    /// The autoencoders' linear layers and the DCGAN discriminator's convolutions.
    @Test func generativeModelsTrackFloat() throws {
        Init.seed(70)
        let x = Self.images([8, 1, 28, 28], seed: 20).scalars.map { min(max($0 / 2.8, 0), 1) }
        let (calibrate, evaluate) = (NDArray(x, shape: [8, 1, 28, 28]), NDArray(x.reversed(), shape: [8, 1, 28, 28]))
        let ae = Autoencoder(imageShape: [1, 28, 28], hidden: 32, code: 8)
        var result = try Self.check(
            ae, calibrate: calibrate, evaluate: evaluate, targets: calibrate,
            output: { ae.decode(ae.encode(Tensor($0))).scalars })
        #expect(result.error < 0.08 && result.layers.count == 4, "autoencoder: \(result.error)")
        let vae = VariationalAutoencoder(imageShape: [1, 28, 28], hidden: 32, latent: 4)
        result = try Self.check(
            vae, calibrate: calibrate, evaluate: evaluate, targets: calibrate,
            output: { vae.decode(vae.encode(Tensor($0)).mean).scalars })
        #expect(result.error < 0.08, "vae: \(result.error)")
        let gan = DCGAN(imageShape: [1, 28, 28], latent: 8, width: 8)
        result = try Self.check(
            gan, calibrate: calibrate, evaluate: evaluate, targets: calibrate,
            output: { gan.discriminator(Tensor($0)).scalars })
        #expect(result.error < 0.12, "dcgan discriminator: \(result.error)")
    }

    /// A model declared in YAML (conv, batch norm, residual blocks, linear) through the factory,
    /// then through the per-layer file and back: the same int8 logits from a fresh model.
    @Test func declaredModelRoundTripsThroughTheFile() throws {
        let yaml = """
            seed: 0
            model:
              name: sequential
              layers:
                - conv: {out: 8, kernel: 3, padding: 1, bias: false, name: stem}
                - batch_norm
                - relu
                - residual:
                    layers:
                      - conv: {out: 8, kernel: 3, padding: 1, groups: 8}
                      - relu
                - max_pool: {kernel: 2}
                - flatten
                - linear: {out: 10, name: head}
            data:
              name: synthetic
              synthetic: {samples: 64, input_shape: [1, 8, 8], classes: 10, test_samples: 16}
              batch_size: 16
            optimizer: {name: sgd, lr: 0.1}
            """
        let config = try ConfigLoader.parse(yaml: yaml)
        let data = try DataSplits.load(config.data, seed: 0)
        let model = try ModelFactory.make(config.model, for: data.train, seed: 0) as! any Classifier
        let calibration = data.train.batch(ArraySlice(0..<32)), test = data.test!.batch(ArraySlice(0..<16))
        let (error, layers) = try Self.check(
            model, calibrate: calibration.inputs, evaluate: test.inputs, targets: calibration.targets,
            output: Self.logits(model))
        #expect(
            error < 0.08 && layers.map(\.site.name) == ["stem", "3.0", "head"], "\(error) \(layers.map(\.site.name))")
        let int8 = withNoGrad { model.logits(test.inputs).scalars }

        let tensors = Int8LayerFile.tensors(of: model, layers: layers)
        let names = Set(tensors.map(\.0))
        #expect(
            names.contains("stem.weight") && names.contains("3.0.input_zero_point") && names.contains("1.running_mean"))
        #expect(Dictionary(uniqueKeysWithValues: tensors)["head.weight"]!.dtype == .int8)
        let bytes = try SafeTensors.encode(tensors, metadata: [:])
        let decoded = try SafeTensors.decode(bytes, name: "int8").tensors
        let fresh = try ModelFactory.make(config.model, for: data.train, seed: 1) as! any Classifier
        fresh.eval()
        try Int8LayerFile.install(decoded, siteNames: layers.map(\.site.name), into: fresh, path: "f")
        #expect(withNoGrad { fresh.logits(test.inputs).scalars } == int8)

        // Each way a file can fail to fit the model, with what to do.
        func failure(_ edit: (inout [String: NDArray]) -> Void, sites: [String]? = nil) -> String {
            var broken = decoded
            edit(&broken)
            let target = try! ModelFactory.make(config.model, for: data.train, seed: 1)
            do {
                try Int8LayerFile.install(broken, siteNames: sites ?? layers.map(\.site.name), into: target, path: "f")
                return "no error"
            } catch { return "\(error)" }
        }
        #expect(
            failure({ $0["head.weight"] = NDArray(shape: [10, 3], dtype: .int8) }).contains(
                "f has no int8 tensor head.weight of shape [10, 128] (found int8 [10, 3]); it was made for a different "
                    + "model, or is damaged: quantize the run again with `tandem quantize`"))
        #expect(failure({ $0["1.running_var"] = nil }).contains("f has no float32 tensor 1.running_var of shape [8]"))
        #expect(
            failure({ _ in }, sites: ["stem", "4"]).contains(
                "f quantizes 4, which is not a linear, convolution or recurrent layer of this run's model"))
        #expect(
            failure({ $0["stem.input_zero_point"] = NDArray(indices: [200], shape: [1]) }).contains(
                "f: stem has input scale"))
    }

    /// A model with nothing to quantize is refused by name.
    @Test func modelWithoutLayersIsRefused() {
        final class Empty: TrainableModel {
            var training = false
            func loss(inputs: NDArray, targets: NDArray, labelSmoothing: Float) -> Tensor { Tensor(inputs) }
        }
        #expect(throws: ConfigError.self) {
            try Int8Calibration.quantize(
                Empty(), batches: [], method: .minmax, percentile: 99, modelName: "empty")
        }
        do {
            _ = try Int8Calibration.quantize(Empty(), batches: [], method: .minmax, percentile: 99, modelName: "empty")
        } catch {
            #expect("\(error)".contains("model.name empty has no linear, convolution or recurrent layer to quantize"))
        }
    }
}
