import Models
import NN
import ONNX
import Testing

/// A model the exporter has no translation for.
private final class Unknown: Classifier {
    var training = true
    let layer = Linear(2, 2)
    func logits(_ inputs: NDArray) -> Tensor { layer(Tensor(inputs)) }
}

/// A layer of a sequential model the exporter has no translation for.
private final class Doubling: Layer {
    var training = true
    func callAsFunction(_ x: Tensor) -> Tensor { x * 2 }
}

/// What the export refuses, and that it says what to do.
@Suite("ONNX export: refusals")
struct ExportMistakeTests {
    @Test(arguments: [16, 22, 0])
    func opsetOutsideTheSupportedRange(opset: Int) throws {
        let model = MLP(inputs: 2, hiddenSizes: [], classes: 2)
        let error = #expect(throws: ONNXExportError.self) {
            try ONNXExport.export(model, input: .init(shape: [2], tokens: false), opset: opset)
        }
        #expect(error?.description.hasPrefix("--opset \(opset) is not supported; give one of 17...21") == true)
    }

    @Test func unknownModelType() throws {
        let error = #expect(throws: ONNXExportError.self) {
            try ONNXExport.export(Unknown(), input: .init(shape: [2], tokens: false))
        }
        #expect(
            error?.description.hasPrefix("the model is a Unknown, which the ONNX export does not translate") == true)
    }

    @Test func unknownLayerIsNamed() throws {
        let model = SequentialClassifier([("fc", Linear(2, 2)), ("twice", Doubling())])
        let error = #expect(throws: ONNXExportError.self) {
            try ONNXExport.export(model, input: .init(shape: [2], tokens: false))
        }
        #expect(error?.description.hasPrefix("layer twice is a Doubling,") == true)
    }

    @Test func exportLeavesTheModelInItsMode() throws {
        let model = MLP(inputs: 2, hiddenSizes: [3], classes: 2, dropout: 0.5)
        model.train()
        let exported = try ONNXExport.export(model, input: .init(shape: [2], tokens: false))
        #expect(model.training && model.hidden.allSatisfy(\.training))
        #expect(exported.signature == ["input input: float32 (batch, 2)", "output logits: float32 (batch, 2)"])
    }
}
