import Checkpoint
import Collective
import Foundation
import Testing
@testable import Training

/// `model.init_strict: false`: the tensors that match by name and shape load, the others are
/// reported exactly, and a file that matches nothing is refused.
@Suite("Partial loading of init_from")
struct PartialWeightLoadTests {
    static func folder() -> String { NSTemporaryDirectory() + "tandem-partial-\(UUID().uuidString)" }

    /// A finished 3-class MLP run (hidden width 16 on 12 inputs), as fine-tuning starts from.
    static func pretrained() throws -> String {
        let directory = folder()
        let t = try Trainer(
            config: TrainerTests.config(["training.max_steps=3"]), runDirectory: directory,
            communicator: SingleProcessCommunicator())
        _ = try t.run()
        return directory
    }

    /// The same MLP for 5 classes: its hidden layer loads, its head starts afresh.
    @Test func skippedAndFreshTensorsAreReportedExactly() throws {
        let source = try Self.pretrained()
        defer { try? FileManager.default.removeItem(atPath: source) }
        let five = ["data.synthetic.classes=5", "model.init_from=\(source)", "model.init_strict=false"]
        let directory = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let t = try Trainer(
            config: TrainerTests.config(five), runDirectory: directory, communicator: SingleProcessCommunicator())
        let fresh = try Trainer(
            config: TrainerTests.config(["data.synthetic.classes=5"]), runDirectory: nil,
            communicator: SingleProcessCommunicator())
        let saved = try SafeTensors.decode(
            Data(contentsOf: URL(fileURLWithPath: source + "/model.safetensors")), name: "model"
        ).tensors
        let loaded = Dictionary(uniqueKeysWithValues: t.model.namedParameters().map { ($0.0, $0.1.data.scalars) })
        #expect(loaded["hidden.0.weight"] == saved["hidden.0.weight"]!.scalars)
        #expect(loaded["hidden.0.bias"] == saved["hidden.0.bias"]!.scalars)
        // The head keeps the fresh initialisation of the same seed.
        let initial = Dictionary(uniqueKeysWithValues: fresh.model.namedParameters().map { ($0.0, $0.1.data.scalars) })
        #expect(loaded["output.weight"] == initial["output.weight"] && loaded["output.bias"] == initial["output.bias"])

        let line =
            "model.init_from \(source) (init_strict: false): loaded 2 of 4 tensors; skipped from the file: "
            + "output.bias [3] (model [5]), output.weight [3, 16] (model [5, 16]); "
            + "initialised afresh: output.weight [5, 16], output.bias [5]"
        let log = try String(contentsOfFile: directory + "/train.log", encoding: .utf8)
        #expect(log.contains(line), "\(log)")
    }

    /// Names the model lacks are skipped with "not in the model", and tensors of another shape
    /// with both shapes; every model tensor not loaded is listed as fresh.
    @Test func theReportNamesEveryTensor() throws {
        let source = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: source) }
        let deeper = try Trainer(
            config: TrainerTests.config(["training.max_steps=2", "model.hidden_sizes=[16, 8]"]),
            runDirectory: source, communicator: SingleProcessCommunicator())
        _ = try deeper.run()
        let shallow = try Trainer(
            config: TrainerTests.config(), runDirectory: nil, communicator: SingleProcessCommunicator())
        let report = try PartialWeightLoad.load(shallow.model, from: source + "/model.safetensors")
        #expect(report.loaded == ["hidden.0.weight", "hidden.0.bias", "output.bias"])
        #expect(
            report.skipped == [
                .init(name: "hidden.2.bias", saved: [8], model: nil),
                .init(name: "hidden.2.weight", saved: [8, 16], model: nil),
                .init(name: "output.weight", saved: [3, 8], model: [3, 16]),
            ])
        #expect(report.fresh == [.init(name: "output.weight", shape: [3, 16])])
        #expect(
            report.summary
                == "loaded 3 of 4 tensors; skipped from the file: hidden.2.bias [8] (not in the model), "
                + "hidden.2.weight [8, 16] (not in the model), output.weight [3, 8] (model [3, 16]); "
                + "initialised afresh: output.weight [3, 16]")
        let saved = try SafeTensors.decode(
            Data(contentsOf: URL(fileURLWithPath: source + "/model.safetensors")), name: "model"
        ).tensors
        let now = Dictionary(uniqueKeysWithValues: shallow.model.namedParameters().map { ($0.0, $0.1.data.scalars) })
        #expect(now["hidden.0.weight"] == saved["hidden.0.weight"]!.scalars)
        #expect(now["output.bias"] == saved["output.bias"]!.scalars)
    }

    /// Strict loading keeps its message; non-strict loading of a file that matches nothing is refused.
    @Test func strictStaysTheDefaultAndAForeignFileIsRefused() throws {
        let source = try Self.pretrained()
        defer { try? FileManager.default.removeItem(atPath: source) }
        #expect {
            try Trainer(
                config: TrainerTests.config(["data.synthetic.classes=5", "model.init_from=\(source)"]),
                runDirectory: nil, communicator: SingleProcessCommunicator())
        } throws: {
            "\($0)".contains("output.weight is float32 [3, 16] but the model needs float32 [5, 16]")
        }
        #expect {
            try Trainer(
                config: TrainerTests.config([
                    "model.init_from=\(source)", "model.init_strict=false", "data.synthetic.input_shape=[7]",
                    "data.synthetic.classes=5",
                    "model.hidden_sizes=[4]",
                ]),
                runDirectory: nil, communicator: SingleProcessCommunicator())
        } throws: {
            "\($0)".contains(
                "model.init_from \(source): no tensor of \(source)/model.safetensors matches this model by name and "
                    + "shape (the file has hidden.0.bias, hidden.0.weight, output.bias, output.weight; the model has "
                    + "hidden.0.weight, hidden.0.bias, output.weight, output.bias); it holds another model's weights")
        }
    }
}
