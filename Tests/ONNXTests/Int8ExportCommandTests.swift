import Checkpoint
import Foundation
import Models
import NN
@testable import ONNX
import Testing
import Training

/// `tandem export --format onnx --int8` on a quantized run: both int8 forms, and the mistakes.
@Suite("tandem export --format onnx --int8", .serialized)
struct Int8ExportCommandTests {
    typealias Check = ONNXRuntimeCheck
    typealias Command = ExportCommandTests

    /// A short synthetic MLP run of its own (the mistakes need one with no int8 file yet).
    static let run: Result<String, Check.Failure> = Command.train("configs/synthetic_smoke.yaml", ["training.epochs=1"])

    /// Has check_onnx.py compare `onnx` with Tandem's logits from `model` on 16 test samples.
    static func compare(_ onnx: String, _ model: any TrainableModel, data: DataSplits, dir: String) throws -> String {
        let x = try #require(data.test).batch(Array(0..<16)[...]).inputs
        let logits = withNoGrad { (model as! any Classifier).logits(x).values }
        let folder = dir + "/int8-check-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: onnx, toPath: folder + "/model.onnx")
        try NumpyFile.write(x, to: folder + "/input.input.npy")
        try NumpyFile.write(logits, to: folder + "/expected.logits.npy")
        let (status, report) = try Check.python(
            ["launch/check_onnx.py", folder, "--tolerance", "\(Int8ExportTests.tolerance)"])
        #expect(status == 0, "\(report)")
        return report
    }

    @Test func exportsThePerLayerFileAsTandemEvaluatesIt() throws {
        let dir = try Self.run.get()
        let file = dir + "/layers.int8.safetensors"
        var (status, _, err) = try Command.tandem(["quantize", dir, "--form", "layers", "--output", file])
        #expect(status == 0, "\(err)")
        let said: String
        (status, said, err) = try Command.tandem(["export", dir, "--format", "onnx", "--int8-file", file])
        #expect(status == 0, "\(err)")
        #expect(said.hasPrefix("wrote \(dir)/model.int8.onnx (ONNX opset 17, ") && said.contains("from \(file)"))
        let (model, _, data) = try Int8ModelFile.load(runDirectory: dir, file: file)
        let report = try Self.compare(dir + "/model.int8.onnx", model, data: data, dir: dir)
        print("tandem export --int8, per-layer synthetic MLP: \(report)")
    }

    /// The fused file holds the same five tensors per layer: the graph carries them as they are,
    /// and onnxruntime gives the fused program's logits.
    @Test func exportsTheFusedFileWithItsNumbers() throws {
        let dir = try Self.run.get()
        var (status, _, err) = try Command.tandem(["quantize", dir, "--form", "fused"])
        #expect(status == 0, "\(err)")
        (status, _, err) = try Command.tandem(["export", dir, "--format", "onnx", "--int8", "--to", dir + "/f.onnx"])
        #expect(status == 0, "\(err)")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + Int8ModelFile.name))
        let tensors = try SafeTensors.decode(bytes, name: "fused").tensors
        let graph = try Onnx_ModelProto(serializedBytes: Data(contentsOf: URL(fileURLWithPath: dir + "/f.onnx"))).graph
        let initializers = Dictionary(graph.initializer.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for layer in ["hidden.0", "output"] {
            let weight = try #require(tensors[layer + ".weight"])
            let stored = try #require(initializers[layer + ".weight_quantized"], "\(initializers.keys.sorted())")
            #expect(stored.dataType == 3 && stored.rawData == Data(bytes: weight.storage.raw, count: weight.count))
            let scale = try #require(initializers[layer + ".input_scale"])
            #expect(scale.rawData == Data(bytes: tensors[layer + ".input_scale"]!.ptr, count: 4))
            let zero = try #require(initializers[layer + ".input_zero_point"])
            #expect(zero.rawData == Data([UInt8(tensors[layer + ".input_zero_point"]!.int32Pointer[0])]))
        }
        #expect(graph.node.filter { $0.opType == "QuantizeLinear" }.count == 2)
        // Against the fused program itself (which rounds the int32 sums straight to the next
        // layer's bytes): on this run the same logits to fp32 rounding (1.9e-7).
        let (fused, _, data) = try Int8ModelFile.load(runDirectory: dir)
        let report = try Self.compare(dir + "/f.onnx", fused, data: data, dir: dir)
        print("tandem export --int8, fused synthetic MLP: \(report)")
    }

    @Test func int8MistakesAreNamedWithTheirFix() throws {
        let dir = try Self.run.get()
        let missing = dir + "/none.int8.safetensors"
        var (status, _, err) = try Command.tandem(["export", dir, "--format", "onnx", "--int8-file", missing])
        #expect(status == 1, "\(err)")
        #expect(err.hasPrefix("tandem export: no int8 model at \(missing): make it with `tandem quantize \(dir)`"))

        (status, _, err) = try Command.tandem([
            "export", dir, "--format", "onnx", "--int8-file", dir + "/model.safetensors",
        ])
        #expect(status == 1 && err.contains("is not an int8 model of this run's mlp"), "\(err)")

        let other = dir + "/lenet.int8.safetensors"
        try SafeTensors.encode(
            [("c1.weight", NDArray(shape: [1]))], metadata: ["format": "tandem-int8", "model": "lenet5"]
        ).write(to: URL(fileURLWithPath: other))
        (status, _, err) = try Command.tandem(["export", dir, "--format", "onnx", "--int8-file", other])
        #expect(status == 1, "\(err)")
        #expect(err.hasPrefix("tandem export: \(other) is an int8 model of lenet5, not of this run's mlp"), "\(err)")

        let layers = dir + "/lenet.layers.int8.safetensors"
        try SafeTensors.encode(
            [("c1.weight", NDArray(shape: [1]))], metadata: ["format": "tandem-int8-layers", "model": "lenet5"]
        ).write(to: URL(fileURLWithPath: layers))
        (status, _, err) = try Command.tandem(["export", dir, "--format", "onnx", "--int8-file", layers])
        #expect(status == 1, "\(err)")
        #expect(
            err.contains("\(layers) is not an int8 model of this run's mlp (format tandem-int8-layers, model lenet5)"),
            "\(err)")

        (status, _, err) = try Command.tandem(["export", dir, "--int8", "--to", dir + "/w.safetensors"])
        #expect(status == 2 && err.hasPrefix("tandem export: --int8 and --int8-file apply to --format onnx only"))
    }
}
