import Foundation
import Models
import NN
import SwiftProtobuf

/// A trained model as an ONNX file: the graph of its evaluation-mode forward pass, with a
/// symbolic batch axis (and sequence axis where the model reads any length).
public enum ONNXExport {
    /// What the model reads, as its dataset gives it.
    public struct Input: Sendable {
        /// One sample's shape, without the batch axis.
        public let shape: [Int]
        /// Token ids (int32 in Tandem, int64 in the graph) rather than float features.
        public let tokens: Bool

        public init(shape: [Int], tokens: Bool) { (self.shape, self.tokens) = (shape, tokens) }
    }

    /// An exported graph: the file's bytes and its inputs and outputs.
    public struct Exported {
        public let data: Data
        public let inputs: [ONNXValue]
        public let outputs: [ONNXValue]
        public let opset: Int

        /// One line per input and output: name, element type and shape.
        public var signature: [String] {
            func line(_ kind: String, _ v: ONNXValue) -> String {
                "\(kind) \(v.name): \(v.element == .float ? "float32" : "int64") "
                    + "(\(v.shape.map(\.description).joined(separator: ", ")))"
            }
            return inputs.map { line("input", $0) } + outputs.map { line("output", $0) }
        }
    }

    /// Exports `model` in evaluation mode (it is put back in the mode it was in).
    /// - Parameters:
    ///   - model: a model of the zoo or a sequential model.
    ///   - input: what its dataset feeds it (the sample shape sizes fixed axes such as an image's).
    ///   - opset: the ONNX operator set, one of `ONNXExportError.supportedOpsets`.
    /// - Throws: `ONNXExportError` for an opset or a model type the export does not support.
    public static func export(_ model: any Module, input: Input, opset: Int = GraphBuilder.defaultOpset) throws
        -> Exported
    {
        let wasTraining = model.training
        model.eval()
        defer { model.train(wasTraining) }
        let g = try GraphBuilder(model: model, opset: opset)
        let (ins, outs) = try graph(of: model, input: input, in: g)
        for (name, v) in outs { g.output(v, as: name) }
        let outputs = outs.map { ONNXValue(name: $0.0, element: $0.1.element, shape: $0.1.shape) }
        let kind = String(describing: type(of: model))
        let proto = g.model(
            name: kind, documentation: "\(kind) exported by tandem",
            metadata: [("model", kind)] + ins.map { ("input.\($0.name)", "\($0.shape)") })
        return Exported(data: try proto.serializedData(), inputs: ins, outputs: outputs, opset: opset)
    }

    /// The graph's inputs and its named outputs, by the model's type.
    static func graph(of model: any Module, input: Input, in g: GraphBuilder) throws -> (
        [ONNXValue], [(String, ONNXValue)]
    ) {
        switch model {
        case let m as GPT: return try gpt(m, g)
        case let m as Seq2SeqTransformer: return seq2seq(m, g)
        case let m as VisionTransformer: return visionTransformer(m, input, g)
        case let m as SequenceClassifier: return try recurrentClassifier(m, g)
        case let m as RecurrentLanguageModel: return try recurrentLanguageModel(m, g)
        case let m as CharMLP: return charMLP(m, input, g)
        case let m as Autoencoder: return autoencoder(m, g)
        case let m as VariationalAutoencoder: return variationalDecoder(m, g)
        case let m as DCGAN: return dcganGenerator(m, g)
        default: return try layered(model, input, g)
        }
    }

    /// The input value of a graph reading the dataset's samples.
    static func input(_ input: Input, _ g: GraphBuilder) -> ONNXValue {
        input.tokens
            ? g.input("input_ids", .int64, [.batch] + input.shape.map { .fixed($0) })
            : g.input("input", .float, [.batch] + input.shape.map { .fixed($0) })
    }
}
