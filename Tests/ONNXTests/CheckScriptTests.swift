import Foundation
import Models
import NN
import ONNX
import Testing

/// launch/check_onnx.py itself: it must refuse outputs that differ, not only pass equal ones.
@Suite("launch/check_onnx.py refuses what differs")
struct CheckScriptTests {
    typealias Check = ONNXRuntimeCheck

    /// An MLP's export with its input, in a fresh folder; `expected` gives what to write as Tandem's logits.
    static func folder(_ expected: (NDArray) -> NDArray) throws -> String {
        let model = MLP(inputs: 4, hiddenSizes: [6], classes: 3)
        model.eval()
        let x = Check.floats([2, 4], seed: 5)
        let logits = withNoGrad { model.logits(x).values }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-onnx-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try ONNXExport.export(model, input: .init(shape: [4], tokens: false)).data.write(
            to: URL(fileURLWithPath: folder + "/model.onnx"))
        try NumpyFile.write(x, to: folder + "/input.input.npy")
        try NumpyFile.write(expected(logits), to: folder + "/expected.logits.npy")
        return folder
    }

    @Test func anOutputOnePercentOffFails() throws {
        let folder = try Self.folder { NDArray($0.scalars.map { $0 * 1.01 }, shape: $0.shape) }
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (status, said) = try Check.python(["launch/check_onnx.py", folder])
        #expect(status == 1)
        #expect(said.contains("logits: max relative error") && said.contains("is over 0.0001"), "\(said)")
    }

    @Test func anOutputOfAnotherShapeFails() throws {
        let folder = try Self.folder { $0.reshaped([3, 2]) }
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (status, said) = try Check.python(["launch/check_onnx.py", folder])
        #expect(status == 1)
        #expect(said.contains("logits: onnxruntime gave shape (2, 3), Tandem (3, 2)"), "\(said)")
    }

    @Test func aMissingInputFails() throws {
        let folder = try Self.folder { $0 }
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.removeItem(atPath: folder + "/input.input.npy")
        let (status, said) = try Check.python(["launch/check_onnx.py", folder])
        #expect(status == 1)
        #expect(said.contains("the graph's input input has no \(folder)/input.input.npy"), "\(said)")
    }
}
