import Collective
import Datasets
import Foundation
import Models
import NN
import Testing
@testable import Training

/// Models declared in YAML (`model.name: sequential`): what they build, and that a declared
/// LeNet-5 is the built-in one.
@Suite("Models declared in YAML", .serialized)
struct SequentialModelTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..")
        .standardized.path
    /// Synthetic 1x28x28 images of 10 classes, a few SGD steps logged at every step.
    static let smallRun = [
        "data.name=synthetic", "data.directory=null", "data.synthetic.samples=256", "data.synthetic.test_samples=64",
        "data.batch_size=32", "training.max_steps=6", "training.test_at_end=false", "logging.progress=none",
        "logging.every_steps=1", "schedule.warmup_steps=2",
    ]

    /// The training losses of metrics.jsonl and the final parameters of a run.
    static func run(_ config: TrainConfig) throws -> (losses: [Double], model: any TrainableModel) {
        let dir = NSTemporaryDirectory() + "tandem-seq-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trainer = try Trainer(config: config, runDirectory: dir, communicator: SingleProcessCommunicator())
        _ = try trainer.run()
        let lines = try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        let losses = lines.compactMap { line -> Double? in
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            guard let object, object["split"] == nil else { return nil }
            return object["loss"] as? Double
        }
        return (losses, trainer.model)
    }

    /// configs/lenet5_sequential_fmnist.yaml has the built-in LeNet-5's parameter names and
    /// shapes, and from the same seed the same losses and weights, bit for bit.
    @Test func declaredLeNet5IsTheBuiltInOne() throws {
        let path = Self.root + "/configs/lenet5_sequential_fmnist.yaml"
        let declared = try ConfigLoader.load(path: path, overrides: Self.smallRun)
        let builtIn = try ConfigLoader.load(
            path: path, overrides: Self.smallRun + ["model.name=lenet5", "model.layers=1"])
        let data = try DataSplits.load(declared.data, seed: 0)
        let a = try ModelFactory.make(declared.model, for: data.train, seed: 0)
        let b = try ModelFactory.make(builtIn.model, for: data.train, seed: 0)
        #expect(a is SequentialClassifier && b is LeNet5)
        let names = a.namedParameters().map { "\($0.0) \($0.1.shape)" }
        #expect(names == b.namedParameters().map { "\($0.0) \($0.1.shape)" })
        #expect(names.first == "c1.weight (6, 1, 5, 5)" && names.last == "output.bias (10)")

        let (declaredLosses, declaredModel) = try Self.run(declared)
        let (builtInLosses, builtInModel) = try Self.run(builtIn)
        #expect(declaredLosses.count == 6)
        #expect(declaredLosses == builtInLosses)
        #expect(declaredLosses.first != declaredLosses.last)
        for ((name, p), (_, q)) in zip(declaredModel.namedParameters(), builtInModel.namedParameters()) {
            #expect(p.scalars == q.scalars, "\(name) differs")
        }
    }

    /// The Fashion-MNIST CNN of configs/cnn_sequential_fmnist.yaml: its layers' names and a
    /// residual block whose body keeps the shape, trained a few steps.
    @Test func residualCNNTrains() throws {
        let config = try ConfigLoader.load(
            path: Self.root + "/configs/cnn_sequential_fmnist.yaml", overrides: Self.smallRun)
        let (losses, model) = try Self.run(config)
        #expect(losses.count == 6 && losses.allSatisfy(\.isFinite))
        let names = model.namedParameters().map(\.0)
        #expect(names.prefix(3) == ["stem.weight", "stem_norm.weight", "stem_norm.bias"])
        #expect(names.contains("block1.0.weight") && names.contains("block1.4.bias") && names.last == "head.bias")
        #expect(model.namedBuffers().map(\.0).contains("block1.1.running_mean"))
    }

    /// A residual block that changes the shape gets a strided 1x1 projection when asked.
    @Test func residualProjectionMatchesTheBody() throws {
        let config = try ConfigLoader.parse(
            yaml: """
                model:
                  name: sequential
                  layers:
                    - residual:
                        projection: true
                        layers: [{conv: {out: 4, kernel: 3, stride: 2, padding: 1}}, relu]
                    - flatten
                    - linear: {out: 10}
                data: {name: synthetic, synthetic: {samples: 64, input_shape: [2, 9, 9], test_samples: 20}}
                optimizer: {lr: 0.1}
                """)
        let data = try DataSplits.load(config.data, seed: 0)
        let model = try ModelFactory.make(config.model, for: data.train, seed: 0)
        let shapes = model.namedParameters().map { "\($0.0) \($0.1.shape)" }
        #expect(
            shapes == [
                "0.0.weight (4, 2, 3, 3)", "0.0.bias (4)", "0.projection.weight (4, 2, 1, 1)", "2.weight (10, 100)",
                "2.bias (10)",
            ])
        #expect((model as? any Classifier)?.logits(data.train.batch([0, 1]).inputs).shape == [2, 10])
    }

    /// Token sequences: an embedding, an LSTM keeping its last step, and a head, named as the
    /// built-in lstm's parameters are.
    @Test func declaredSequenceClassifierNamesItsParametersAsTheBuiltInOne() throws {
        let memory = "data: {name: memory, memory: {samples: 64, length: 12, test_samples: 20}}\noptimizer: {lr: 0.1}\n"
        let declared = try ConfigLoader.parse(
            yaml: memory + """
                model:
                  name: sequential
                  layers:
                    - embedding: {dim: 24, name: embedding}
                    - lstm: {hidden: 256, name: recurrent}
                    - linear: {out: 4, name: head}
                """)
        let builtIn = try ConfigLoader.parse(yaml: memory + "model: {name: lstm}")
        let data = try DataSplits.load(declared.data, seed: 0)
        let a = try ModelFactory.make(declared.model, for: data.train, seed: 0)
        let b = try ModelFactory.make(builtIn.model, for: data.train, seed: 0)
        #expect(
            a.namedParameters().map { "\($0.0) \($0.1.shape)" } == b.namedParameters().map { "\($0.0) \($0.1.shape)" })
        #expect((a as? any Classifier)?.logits(data.train.batch([0, 1, 2]).inputs).shape == [3, 4])
    }

    /// `name:` may sit beside the kind; unnamed layers take their index, as `nn.Sequential` names them.
    @Test func namesBesideTheKindAndByIndex() throws {
        let config = try ConfigLoader.parse(
            yaml: """
                model: {name: sequential, layers: [flatten, {linear: {out: 6}, name: hidden}, relu, {linear: {out: 3}}]}
                data: {name: synthetic, synthetic: {samples: 40, input_shape: [2, 2], classes: 3, test_samples: 20}}
                optimizer: {lr: 0.1}
                """)
        let data = try DataSplits.load(config.data, seed: 0)
        let model = try ModelFactory.make(config.model, for: data.train, seed: 0)
        #expect(model.namedParameters().map(\.0) == ["hidden.weight", "hidden.bias", "3.weight", "3.bias"])
    }

    /// Text with a target at every position: an LSTM keeping the whole sequence, and logits
    /// for every position (N·T rows), trained a few steps.
    @Test func everyPositionGetsItsLogits() throws {
        let dir = NSTemporaryDirectory() + "tandem-seq-text-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let text = String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 60)
        try text.write(toFile: dir + "/input.txt", atomically: true, encoding: .utf8)
        let config = try ConfigLoader.parse(
            yaml: """
                model:
                  name: sequential
                  layers: [{embedding: {dim: 8}}, {gru: {hidden: 16, keep: sequence}}, {linear: {out: 28}}]
                data: {name: text, path: \(dir)/input.txt, context: 12, targets: every, batch_size: 8}
                optimizer: {name: adam, lr: 0.01}
                training: {max_steps: 3, test_at_end: false}
                logging: {progress: none}
                """)
        let data = try DataSplits.load(config.data, seed: 0)
        #expect(data.train.classCount == 28 && data.train.targetsPerSample == 12)
        let model = try #require(try ModelFactory.make(config.model, for: data.train, seed: 0) as? any Classifier)
        #expect(model.logits(data.train.batch([0, 1]).inputs).shape == [24, 28])
        _ = try Trainer(config: config, runDirectory: nil, communicator: SingleProcessCommunicator()).run()
    }

    /// With `data.task: regression` the model is a regressor whose last width is the target count.
    @Test func regressionGivesARegressor() throws {
        let dir = NSTemporaryDirectory() + "tandem-seq-csv-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let rows = (0..<40).map { i in "\(Double(i) / 10),\(Double(i % 7)),\(Double(i) * 0.3)" }
        try ("a,b,y\n" + rows.joined(separator: "\n") + "\n").write(
            toFile: dir + "/t.csv", atomically: true, encoding: .utf8)
        let config = try ConfigLoader.parse(
            yaml: """
                model: {name: sequential, layers: [{linear: {out: 8}}, tanh, {linear: {out: 1}}], loss: huber}
                data: {name: csv, path: \(dir)/t.csv, target: [y], task: regression, batch_size: 8}
                optimizer: {lr: 0.1}
                training: {early_stopping: null}
                """)
        let data = try DataSplits.load(config.data, seed: 0)
        let model = try ModelFactory.make(config.model, for: data.train, seed: 0)
        let regressor = try #require(model as? SequentialRegressor)
        #expect(regressor.outputs == 1 && regressor.regressionLoss == .huber(delta: 1))
        #expect(regressor.predictions(data.train.batch([0, 1, 2]).inputs).shape == [3, 1])
    }

    /// `model.layers` round-trips through the resolved config.yaml, so a resumed run builds the same model.
    @Test func layersSurviveTheResolvedConfig() throws {
        let config = try ConfigLoader.load(path: Self.root + "/configs/cnn_sequential_fmnist.yaml")
        let again = try ConfigLoader.parse(yaml: try ConfigLoader.yaml(config))
        #expect(again.model == config.model)
        #expect(again.model.declaredLayers?.count == 14)
    }
}
