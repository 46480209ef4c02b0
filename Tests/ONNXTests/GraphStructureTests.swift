import Foundation
import Models
import NN
import Testing

@testable import ONNX

/// What the graphs are made of: operators per opset, and initializers named after the model.
@Suite("ONNX export: graph structure")
struct GraphStructureTests {
    static func graph(_ model: any Module, _ input: ONNXExport.Input, opset: Int = 17) throws -> Onnx_GraphProto {
        try Onnx_ModelProto(serializedBytes: try ONNXExport.export(model, input: input, opset: opset).data).graph
    }

    @Test func geluIsOneNodeFromOpset20AndErfOrTanhBefore() throws {
        let exact = MLP(inputs: 4, hiddenSizes: [4], classes: 2, activation: .geluErf)
        let tanh = MLP(inputs: 4, hiddenSizes: [4], classes: 2, activation: .geluTanh)
        let input = ONNXExport.Input(shape: [4], tokens: false)
        let ops17 = try Self.graph(exact, input).node.map(\.opType)
        #expect(ops17.contains("Erf") && !ops17.contains("Gelu"))
        #expect(try Self.graph(tanh, input).node.map(\.opType).contains("Tanh"))
        for (model, form) in [(exact, "none"), (tanh, "tanh")] {
            let gelu = try #require(try Self.graph(model, input, opset: 20).node.first { $0.opType == "Gelu" })
            #expect(gelu.attribute.first { $0.name == "approximate" }?.s == Data(form.utf8))
        }
    }

    @Test(arguments: [(Recurrent.Kind.rnn, "RNN"), (.lstm, "LSTM"), (.gru, "GRU")])
    func recurrentLayersAreONNXRecurrentOperators(kind: Recurrent.Kind, op: String) throws {
        let model = SequenceClassifier(kind, vocabulary: 5, embeddingSize: 3, hiddenSize: 4, layers: 2, classes: 2)
        let g = try Self.graph(model, .init(shape: [6], tokens: true))
        let cells = g.node.filter { $0.opType == op }
        #expect(cells.count == 2)
        for cell in cells {
            #expect(cell.attribute.first { $0.name == "hidden_size" }?.i == 4)
            #expect(cell.attribute.contains { $0.name == "linear_before_reset" && $0.i == 1 } == (kind == .gru))
        }
        #expect(g.input[0].type.tensorType.shape.dim.map(\.dimParam) == ["batch", "sequence"])
    }

    /// Every zoo model's initializers: its parameters and buffers under their names, once each,
    /// and only constants besides; no dropout.
    @Test func initializersAreTheModelsParametersAndBuffers() throws {
        let models: [(any Module, ONNXExport.Input)] = [
            (LeNet5(dropout: 0.5), .init(shape: [1, 28, 28], tokens: false)),
            (ResNet(channels: [4, 8], classes: 3), .init(shape: [1, 8, 8], tokens: false)),
            (
                GPT(vocabulary: 7, context: 5, width: 4, layers: 1, heads: 2, dropout: 0.1),
                .init(shape: [5], tokens: true)
            ),
            (
                Seq2SeqTransformer(vocabulary: 7, sourceLength: 3, targetLength: 2, width: 4, layers: 1, heads: 2),
                .init(shape: [5], tokens: true)
            ),
            (
                RecurrentLanguageModel(.lstm, vocabulary: 7, embeddingSize: 3, hiddenSize: 4),
                .init(shape: [5], tokens: true)
            ),
        ]
        for (model, input) in models {
            let g = try Self.graph(model, input)
            let names = g.initializer.map(\.name)
            #expect(Set(names).count == names.count, "\(type(of: model)): an initializer twice")
            let weights = model.namedParameters().map(\.0) + ONNXRuntimeCheck.statisticNames(model)
            let constants = names.filter { !weights.contains($0) }
            #expect(Set(names).isSuperset(of: weights), "\(type(of: model)): \(Set(weights).subtracting(names))")
            #expect(constants.allSatisfy { $0.hasPrefix("const/") || $0 == "causalMask" }, "\(constants)")
            #expect(!g.node.contains { $0.opType == "Dropout" })
        }
    }
}
