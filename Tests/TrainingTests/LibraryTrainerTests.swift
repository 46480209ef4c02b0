import Collective
import Datasets
import Foundation
import Models
import NN
import Testing
@testable import Training

/// Points in the plane labelled by their quadrant: a dataset written outside Tandem, each sample
/// computed from its index.
final class QuadrantPoints: Dataset, @unchecked Sendable {
    let count: Int, seed: UInt64
    init(count: Int, seed: UInt64) { (self.count, self.seed) = (count, seed) }
    var inputShape: Shape { [2] }
    var inputType: DType { .float32 }
    var classCount: Int { 4 }

    func batch(_ indices: ArraySlice<Int>) -> Batch {
        let x = NDArray(shape: [indices.count, 2]), y = NDArray(shape: [indices.count], dtype: .int32)
        for (row, i) in indices.enumerated() {
            var rng = PhiloxRNG(seed: seed &+ UInt64(i))
            var point = [Float](repeating: 0, count: 2)
            rng.fillNormal(&point, 2)
            (x.ptr[2 * row], x.ptr[2 * row + 1]) = (point[0], point[1])
            y.int32Pointer[row] = Int32((point[0] > 0 ? 1 : 0) + (point[1] > 0 ? 2 : 0))
        }
        return Batch(inputs: x, targets: y)
    }
}

/// A user's classifier: a residual block between two linear layers, with dropout.
final class ResidualPointNet: Classifier {
    var training = true
    let stem = Linear(2, 16), inner = Linear(16, 16), dropout = Dropout(0.1), head = Linear(16, 4)

    func logits(_ inputs: NDArray) -> Tensor {
        let h = stem(Tensor(inputs)).relu()  // (N, 16)
        return head(dropout((h + inner(h).relu())))  // (N, 4)
    }
}

/// A model with batch norm that is only trainable (no logits): its loss is its own.
final class NormalizedEnergy: TrainableModel {
    var training = true
    let layer = Linear(2, 3), norm = BatchNorm(3)

    func loss(inputs: NDArray, targets: NDArray, labelSmoothing: Float) -> Tensor {
        let y = norm(layer(Tensor(inputs)))
        return (y * y).mean()
    }
}

/// Counts rows whose target is class 0, so the test knows the exact value to expect.
struct ShareOfClassZero: EvaluationMetric {
    var name = "share_of_class_zero"
    func measure(outputs: NDArray, batch: Batch) -> (sum: Double, count: Double) {
        let t = batch.flatTargets
        return (Double((0..<t.count).filter { t.int32Pointer[$0] == 0 }.count), Double(t.count))
    }
}

@Suite("The trainer as a library: a model and data built in code", .serialized)
struct LibraryTrainerTests {
    static func config(_ overrides: [String] = []) throws -> TrainConfig {
        try ConfigLoader.parse(
            yaml: """
                data: {batch_size: 16}
                training: {epochs: 3}
                optimizer: {name: adam, lr: 0.01}
                checkpointing: {every_steps: 10}
                logging: {progress: none, every_steps: 5}
                """, overrides: overrides, customModel: true)
    }

    static func splits() -> DataSplits {
        DataSplits(
            train: QuadrantPoints(count: 400, seed: 1), validation: QuadrantPoints(count: 96, seed: 2),
            test: QuadrantPoints(count: 100, seed: 3))
    }

    static func train(
        _ overrides: [String], dir: String, resume: ResumeSource? = nil, metrics: [any EvaluationMetric] = []
    ) throws -> (Trainer, TrainResult) {
        Init.seed(7)
        let t = try Trainer(
            config: config(overrides), model: ResidualPointNet(), data: splits(), runDirectory: dir,
            communicator: SingleProcessCommunicator(), resume: resume, metrics: metrics)
        return (t, try t.run())
    }

    /// It learns, writes the run directory, measures the user's metric, and resumes to the bit.
    @Test func trainsChecksAndResumesAModelOfItsOwn() throws {
        let straight = CheckpointTests.folder(), split = CheckpointTests.folder()
        defer { for d in [straight, split] { try? FileManager.default.removeItem(atPath: d) } }
        let (a, result) = try Self.train(["training.max_steps=60"], dir: straight, metrics: [ShareOfClassZero()])
        #expect(a.modelName == "ResidualPointNet" && a.dataName == "QuadrantPoints")
        #expect(result.final!.accuracy > 0.8, "accuracy \(result.final!.accuracy) on four quadrants")
        let test = QuadrantPoints(count: 100, seed: 3).batch(ArraySlice(0..<100)).targets
        let zeros = Double((0..<100).filter { test.int32Pointer[$0] == 0 }.count) / 100
        #expect(result.final!.custom == ["share_of_class_zero": zeros])
        let last = try String(contentsOfFile: straight + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").last!
        let line = try JSONSerialization.jsonObject(with: Data(last.utf8)) as! [String: Any]
        #expect(line["split"] as? String == "test" && line["share_of_class_zero"] as? Double == zeros)
        for file in ["config.yaml", "train.log", "model.safetensors", "checkpoints/step-00000060"] {
            #expect(FileManager.default.fileExists(atPath: straight + "/" + file), "\(file)")
        }

        _ = try Self.train(["training.max_steps=30"], dir: split)
        let (b, _) = try Self.train(["training.max_steps=60"], dir: split, resume: .auto)
        #expect(b.resumedFrom?.hasSuffix("step-00000030") == true)
        #expect(
            a.ddp.arena.values.scalars.map(\.bitPattern) == b.ddp.arena.values.scalars.map(\.bitPattern),
            "weights differ after the resume")
        let la = try CheckpointTests.losses(straight, after: 30), lb = try CheckpointTests.losses(split, after: 30)
        #expect(!la.isEmpty && la == lb)
        let log = try String(contentsOfFile: split + "/train.log", encoding: .utf8)
        #expect(!log.contains("could not be read back"), "\(log)")

        // The commands cannot rebuild the model, and say so rather than build another.
        let error = #expect(throws: ConfigError.self) { try ConfigLoader.load(path: straight + "/config.yaml") }
        #expect(
            "\(error!)".contains(
                "config.yaml is the config of a run whose model, ResidualPointNet, was built in code by a program"))
        #expect(
            try ConfigLoader.load(path: straight + "/config.yaml", customModel: true)
                == Self.config(["training.max_steps=60"]))
    }

    /// What the config asks of the model is checked against what the model is, in its own words.
    @Test(arguments: [
        (
            "deterministic", ["deterministic=true", "distributed.micro_shards=2"], false,
            #"model is "NormalizedEnergy"; allowed: a model without batch norm with deterministic: true"#
        ),
        (
            "not a classifier", ["training.early_stopping={metric: accuracy}"], false,
            #"training.early_stopping.metric is "accuracy"; allowed: loss for NormalizedEnergy"#
        ),
        (
            "distillation", ["distillation.teacher=runs/teacher"], false,
            #"model is "NormalizedEnergy"; allowed: a classifier for distillation"#
        ),
        ("metrics without outputs", [], true, "NormalizedEnergy is neither a Classifier (logits) nor a Regressor"),
    ])
    func mistakesNameTheModel(_ name: String, _ overrides: [String], _ withMetric: Bool, _ message: String) throws {
        let error = #expect(throws: ConfigError.self) {
            _ = try Trainer(
                config: Self.config(overrides), model: NormalizedEnergy(), data: Self.splits(), runDirectory: nil,
                communicator: SingleProcessCommunicator(), metrics: withMetric ? [ShareOfClassZero()] : [])
        }
        #expect(error.map { "\($0)".contains(message) } == true, "\(name): \(error.map { "\($0)" } ?? "no error")")
    }

    /// A metric of one's own may not reuse a built-in metric's name, or another's.
    @Test(arguments: ["accuracy", "top5_accuracy", "", "share_of_class_zero"])
    func metricNamesAreTheirOwn(_ name: String) throws {
        let metrics: [any EvaluationMetric] = [ShareOfClassZero(), ShareOfClassZero(name: name)]
        let error = #expect(throws: ConfigError.self) {
            _ = try Trainer(
                config: Self.config(), model: ResidualPointNet(), data: Self.splits(), runDirectory: nil,
                communicator: SingleProcessCommunicator(), metrics: metrics)
        }
        #expect("\(error!)".contains("metric name \"\(name)\" is empty, repeated or one a built-in metric uses"))
    }

    /// A model declared in YAML shows its batch norm only once built: deterministic mode refuses it then,
    /// before any training, naming the layer.
    @Test func deterministicModeRefusesBatchNormInABuiltModel() throws {
        let config = try ConfigLoader.parse(
            yaml: """
                deterministic: true
                model: {name: sequential, layers: [flatten, {linear: {out: 8}}, {batch_norm: {name: norm}}, relu, {linear: {out: 3}}]}
                data: {name: synthetic, batch_size: 8, synthetic: {samples: 64, input_shape: [5], classes: 3}}
                distributed: {micro_shards: 2}
                optimizer: {lr: 0.1}
                """)
        let error = #expect(throws: ConfigError.self) {
            _ = try Trainer(config: config, runDirectory: nil, communicator: SingleProcessCommunicator())
        }
        #expect("\(error!)".contains("but the model has batch norm at norm; remove it"), "\(error!)")
    }
}
