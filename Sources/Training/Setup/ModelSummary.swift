import Autograd
import Datasets
import Foundation
import Models
import NN

/// A model's layer table, as torchinfo prints it: every module, depth first, with the output
/// shape a forward pass on one sample gave it and its parameter count.
public struct ModelSummary {
    /// One module of the tree.
    public struct Row: Equatable {
        /// Its dotted name ("" for the model).
        public let name: String
        /// Its type (`Conv2d`), with the function for activations.
        public let kind: String
        /// 0 for the model, 1 for its children, ...
        public let depth: Int
        /// Its output in the forward pass, batch axis first; nil for a module not called as a layer.
        public let outputShape: [Int]?
        /// Its parameters, its children's included.
        public let parameters: Int
    }

    public let rows: [Row]
    /// One sample's input, batch axis first.
    public let inputShape: [Int]
    public let inputType: DType
    /// Trainable scalars.
    public var totalParameters: Int { rows.first?.parameters ?? 0 }
    /// Values of the buffers (batch-norm running statistics), which training does not descend on.
    public let bufferValues: Int

    /// The summary of `model` on the first sample of `data`, in evaluation mode without gradients.
    /// - Parameters:
    ///   - model: the model, as `ModelFactory` builds it.
    ///   - data: the split it reads (the training split).
    public static func make(_ model: any TrainableModel, data: any Dataset) -> ModelSummary {
        let batch = data.batch([0])
        model.eval()
        var rootShape: [Int]?
        let shapes = ShapeTrace.recording {
            withNoGrad {
                switch model {
                case let classifier as any Classifier: rootShape = classifier.logits(batch.inputs).shape.dims
                case let regressor as any Regressor: rootShape = regressor.predictions(batch.inputs).shape.dims
                default: _ = model.loss(inputs: batch.inputs, targets: batch.targets, labelSmoothing: 0)
                }
            }
        }
        model.train()
        var rows: [Row] = []
        func visit(_ module: any Module, _ name: String, _ depth: Int) {
            var kind = String(describing: type(of: module))
            if let a = module as? ActivationLayer { kind += "(\(a.function))" }
            let shape = depth == 0 ? rootShape : shapes[ObjectIdentifier(module)]?.dims
            rows.append(
                Row(name: name, kind: kind, depth: depth, outputShape: shape, parameters: module.parameterCount))
            for (child, m) in module.namedChildren { visit(m, name.isEmpty ? child : name + "." + child, depth + 1) }
        }
        visit(model, "", 0)
        return ModelSummary(
            rows: rows, inputShape: batch.inputs.shape.dims, inputType: batch.inputs.dtype,
            bufferValues: model.namedBuffers().reduce(0) { $0 + $1.1.value.count })
    }

    /// The table with its totals, as `tandem inspect-model` prints it.
    /// - Parameter title: the model's name, for the first row.
    public func table(title: String) -> String {
        func shape(_ dims: [Int]?) -> String {
            dims.map { "[" + $0.map(String.init).joined(separator: ", ") + "]" } ?? "-"
        }
        func grouped(_ n: Int) -> String {
            let digits = String(n)
            return digits.enumerated().map { i, c in i > 0 && (digits.count - i) % 3 == 0 ? ",\(c)" : "\(c)" }
                .joined()
        }
        let header = ["#", "Layer", "Kind", "Output shape", "Params"]
        let cells = rows.enumerated().map { i, row in
            [
                "\(i)", String(repeating: "  ", count: row.depth) + (row.name.isEmpty ? title : row.name), row.kind,
                shape(row.outputShape), grouped(row.parameters),
            ]
        }
        let widths = (0..<header.count).map { c in ([header] + cells).map { $0[c].count }.max()! }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { c, text in
                let pad = String(repeating: " ", count: widths[c] - text.count)
                return c == 0 || c == cells.count - 1 ? pad + text : text + pad
            }.joined(separator: "  ")
        }
        let rule = String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1))
        var out = ["input \(shape(inputShape)) \(inputType)", rule, line(header), rule] + cells.map(line) + [rule]
        out.append(
            "Total parameters: \(grouped(totalParameters)) "
                + "(\(String(format: "%.1f", Double(totalParameters) * 4 / 1024)) KiB as float32)"
        )
        out.append("Buffers: \(grouped(bufferValues)) values (not trained)")
        return out.joined(separator: "\n")
    }
}
