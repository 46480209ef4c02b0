import Foundation
import Models
import NN
import ONNX
import Testing
import Training

/// `tandem export --format onnx` on a trained run, and the mistakes it names.
@Suite("tandem export --format onnx", .serialized)
struct ExportCommandTests {
    typealias Check = ONNXRuntimeCheck

    static var tandem: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("tandem").path
    }

    /// Runs the tandem binary; its exit status, standard output and standard error.
    static func tandem(_ arguments: [String]) throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tandem)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: Check.packageRoot)
        let (out, err) = (Pipe(), Pipe())
        (process.standardOutput, process.standardError) = (out, err)
        try process.run()
        let said = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let complained = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, said, complained)
    }

    /// A short synthetic run, trained once for the suite.
    static let run: Result<String, Check.Failure> = train(
        "configs/synthetic_smoke.yaml", ["training.epochs=1"])

    /// Trains `config` with `overrides` into a fresh run directory.
    static func train(_ config: String, _ overrides: [String]) -> Result<String, Check.Failure> {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-onnx-run-\(UUID().uuidString)")
            .path
        do {
            let sets = (["logging.progress=none"] + overrides).flatMap { ["--set", $0] }
            let (status, _, err) = try tandem(["train", config, "--run-dir", dir] + sets)
            guard status == 0 else { return .failure(Check.Failure(description: "tandem train failed: \(err)")) }
            return .success(dir)
        } catch {
            return .failure(Check.Failure(description: "tandem cannot be started: \(error)"))
        }
    }

    /// A run's export against Tandem's logits on its first 16 test samples.
    static func checkExport(_ dir: String, input: String) throws -> String {
        let (_, data, model) = try Int8ModelFile.loadRun(dir, weights: dir + "/model.safetensors")
        let x = try #require(data.test).batch(Array(0..<16)[...]).inputs
        let logits = withNoGrad { (model as! any Classifier).logits(x).values }
        let folder = dir + "/onnx-check"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: dir + "/model.onnx", toPath: folder + "/model.onnx")
        try NumpyFile.write(x, to: folder + "/input.\(input).npy")
        try NumpyFile.write(logits, to: folder + "/expected.logits.npy")
        let (checked, report) = try Check.python(["launch/check_onnx.py", folder])
        #expect(checked == 0, "\(report)")
        #expect(report.contains("onnx-check: max relative error"))
        return report
    }

    @Test func exportsATrainedRunThatOnnxruntimeRunsAsTandemDoes() throws {
        let dir = try Self.run.get()
        let (status, said, err) = try Self.tandem(["export", dir, "--format", "onnx"])
        #expect(status == 0, "\(err)")
        #expect(said.hasPrefix("wrote \(dir)/model.onnx (ONNX opset 17, "))
        #expect(said.contains("input input: float32 (batch, 20)") && said.contains("output logits: float32 (batch, 4)"))
        print("tandem export --format onnx, synthetic MLP: \(try Self.checkExport(dir, input: "input"))")
    }

    @Test func exportsATrainedTokenRunWithInt64Ids() throws {
        let dir = try Self.train(
            "configs/gru_memory.yaml",
            [
                "training.epochs=1", "data.memory.samples=256", "data.memory.test_samples=32", "data.memory.length=12",
                "model.hidden_size=8",
            ]
        ).get()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (status, said, err) = try Self.tandem(["export", dir, "--format", "onnx"])
        #expect(status == 0, "\(err)")
        #expect(said.contains("input input_ids: int64 (batch, sequence)"))
        print("tandem export --format onnx, GRU on memory: \(try Self.checkExport(dir, input: "input_ids"))")
    }

    @Test func exportsACheckpointAtAnotherOpsetToAGivenFile() throws {
        let dir = try Self.run.get()
        let latest = try String(contentsOfFile: dir + "/checkpoints/latest", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let (status, said, err) = try Self.tandem([
            "export", "\(dir)/checkpoints/\(latest)", "--format", "onnx", "--opset", "20", "--to", dir + "/c.onnx",
        ])
        #expect(status == 0, "\(err)")
        #expect(said.hasPrefix("wrote \(dir)/c.onnx (ONNX opset 20, "))
        #expect(said.contains("from \(dir)/checkpoints/\(latest)/model.safetensors"))
        #expect(FileManager.default.fileExists(atPath: dir + "/c.onnx"))
    }

    @Test func mistakesAreNamedWithTheirFix() throws {
        let dir = try Self.run.get()
        let cases: [([String], String)] = [
            (["--format", "onnx", "--opset", "16"], "tandem export: --opset 16 is not supported; give one of 17...21"),
            (["--format", "tflite"], "tandem export: --format tflite is not one of safetensors, onnx"),
            (
                ["--format", "onnx", "--to", dir],
                "tandem export: --to \(dir) is a folder; give the file to write, e.g. --to \(dir)/model.onnx"
            ),
            (
                ["--format", "onnx", "--to", dir + "/missing/m.onnx"],
                "tandem export: --to \(dir)/missing/m.onnx: the folder \(dir)/missing does not exist"
            ),
            (
                ["--opset", "18", "--to", dir + "/w.safetensors"],
                "tandem export: --opset applies to --format onnx only"
            ),
            ([], "tandem export: --to is required with --format safetensors"),
        ]
        for (arguments, message) in cases {
            let (status, _, err) = try Self.tandem(["export", dir] + arguments)
            #expect(status == 2 && err.hasPrefix(message), "\(arguments): \(status) \(err)")
        }
        let (status, _, err) = try Self.tandem(["export", Check.packageRoot + "/configs", "--format", "onnx"])
        #expect(status == 2 && err.contains("is not a run directory (no config.yaml) or a checkpoint folder"), "\(err)")
    }
}
