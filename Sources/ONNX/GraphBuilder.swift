import Foundation
import NN
import SwiftProtobuf

/// Builds one ONNX graph: its inputs, the nodes in order, initializers named after the model's
/// parameters and buffers, and the shape of every value (with symbolic sizes where they vary).
public final class GraphBuilder {
    /// The default operator set: one every onnxruntime release since 1.12 runs.
    public static let defaultOpset = 17

    public let opset: Int
    private var graphNodes: [Onnx_NodeProto] = []
    private var initializers: [Onnx_TensorProto] = []
    private var inputs: [Onnx_ValueInfoProto] = []
    private var outputs: [Onnx_ValueInfoProto] = []
    private var valueInfos: [Onnx_ValueInfoProto] = []
    /// The dotted name of every parameter and buffer, by identity, so tied weights are written once.
    private var tensorNames: [ObjectIdentifier: String] = [:]
    private var written: [String: ONNXValue] = [:]
    private var used: Set<String> = []

    /// - Parameters:
    ///   - model: the module whose parameters and buffers the initializers are named after.
    ///   - opset: the ONNX operator set version, one of `ONNXExportError.supportedOpsets`.
    public init(model: any Module, opset: Int = GraphBuilder.defaultOpset) throws {
        guard ONNXExportError.supportedOpsets.contains(opset) else { throw ONNXExportError.opset(opset) }
        self.opset = opset
        for (name, t) in model.namedParameters() where tensorNames[ObjectIdentifier(t)] == nil {
            tensorNames[ObjectIdentifier(t)] = name
        }
        for (name, b) in model.namedBuffers() where tensorNames[ObjectIdentifier(b)] == nil {
            tensorNames[ObjectIdentifier(b)] = name
        }
    }

    /// A fresh value name under `scope` (a module's dotted name).
    func fresh(_ scope: String, _ what: String) -> String {
        let base = scope.isEmpty ? what : "\(scope)/\(what)"
        var name = base, k = 1
        while used.contains(name) { (name, k) = ("\(base)_\(k)", k + 1) }
        used.insert(name)
        return name
    }

    /// Declares a graph input.
    public func input(_ name: String, _ element: ONNXValue.Element, _ shape: [ONNXDim]) -> ONNXValue {
        used.insert(name)
        let v = ONNXValue(name: name, element: element, shape: shape)
        inputs.append(Self.info(v))
        return v
    }

    /// Declares `value` a graph output under `name` (through an Identity node).
    public func output(_ value: ONNXValue, as name: String) {
        used.insert(name)
        var n = Onnx_NodeProto()
        (n.opType, n.input, n.output, n.name) = ("Identity", [value.name], [name], name)
        graphNodes.append(n)
        outputs.append(Self.info(ONNXValue(name: name, element: value.element, shape: value.shape)))
    }

    /// A model parameter as an initializer under its dotted name (written once however often used).
    public func parameter(_ t: Tensor) -> ONNXValue {
        let name = tensorNames[ObjectIdentifier(t)] ?? fresh("", "tensor")
        return floatInitializer(name, t.data.scalars, t.shape.dims)
    }

    /// A model buffer (batch norm's running statistics) as an initializer under its dotted name.
    public func buffer(_ b: Buffer) -> ONNXValue {
        let name = tensorNames[ObjectIdentifier(b)] ?? fresh("", "buffer")
        return floatInitializer(name, b.value.scalars, b.value.shape.dims)
    }

    /// A float constant; equal scalars share one initializer.
    public func constant(_ values: [Float], shape: [Int], name: String? = nil) -> ONNXValue {
        if shape.isEmpty, name == nil {
            return floatInitializer("const/\(values[0])", values, shape)
        }
        return floatInitializer(name ?? fresh("", "const"), values, shape)
    }

    /// A 1-D int64 constant (shapes, axes, split sizes); equal ones share one initializer.
    public func int64s(_ values: [Int]) -> ONNXValue {
        let name = "const/i64[\(values.map(String.init).joined(separator: ","))]"
        if let v = written[name] { return v }
        var t = Onnx_TensorProto()
        (t.name, t.dataType, t.dims) = (name, ONNXValue.Element.int64.rawValue, [Int64(values.count)])
        t.rawData = values.map { Int64($0) }.withUnsafeBufferPointer { Data(buffer: $0) }
        initializers.append(t)
        let v = ONNXValue(name: name, element: .int64, shape: [.fixed(values.count)])
        (written[name], used) = (v, used.union([name]))
        return v
    }

    private func floatInitializer(_ name: String, _ values: [Float], _ dims: [Int]) -> ONNXValue {
        initializer(name, .float, values.withUnsafeBufferPointer { Data(buffer: $0) }, dims)
    }

    /// An initializer of raw little-endian bytes under `name` (written once however often asked for).
    /// - Parameters:
    ///   - name: its name.
    ///   - element: its element type.
    ///   - bytes: the values, as ONNX's raw_data holds them.
    ///   - dims: its shape.
    func initializer(_ name: String, _ element: ONNXValue.Element, _ bytes: Data, _ dims: [Int]) -> ONNXValue {
        if let v = written[name] { return v }
        var t = Onnx_TensorProto()
        (t.name, t.dataType, t.dims, t.rawData) = (name, element.rawValue, dims.map(Int64.init), bytes)
        initializers.append(t)
        let v = ONNXValue(name: name, element: element, shape: dims.map { .fixed($0) })
        (written[name], used) = (v, used.union([name]))
        return v
    }

    /// The dotted name of a parameter, if the model has it.
    func name(of t: Tensor) -> String? { tensorNames[ObjectIdentifier(t)] }

    /// Appends a node with one output.
    /// - Parameters:
    ///   - op: the ONNX operator.
    ///   - inputs: its inputs in order.
    ///   - attributes: its attributes.
    ///   - scope: the module it belongs to, for the output's name.
    ///   - shape: the output's shape.
    ///   - element: the output's element type (float unless given).
    @discardableResult
    public func node(
        _ op: String, _ inputs: [ONNXValue], _ attributes: [ONNXAttribute] = [], scope: String, shape: [ONNXDim],
        element: ONNXValue.Element = .float
    ) -> ONNXValue {
        nodes(op, inputs, attributes, scope: scope, shapes: [shape], element: element)[0]
    }

    /// Appends a node with several outputs (Split, the recurrent operators).
    public func nodes(
        _ op: String, _ inputs: [ONNXValue], _ attributes: [ONNXAttribute] = [], scope: String, shapes: [[ONNXDim]],
        element: ONNXValue.Element = .float
    ) -> [ONNXValue] {
        var n = Onnx_NodeProto()
        let outs = shapes.indices.map { i in
            ONNXValue(name: fresh(scope, shapes.count == 1 ? op : "\(op):\(i)"), element: element, shape: shapes[i])
        }
        (n.opType, n.input, n.output) = (op, inputs.map(\.name), outs.map(\.name))
        n.name = outs[0].name
        n.attribute = attributes.map(\.proto)
        graphNodes.append(n)
        valueInfos += outs.map(Self.info)
        return outs
    }

    /// The finished model.
    /// - Parameters:
    ///   - name: the graph's name.
    ///   - documentation: the model's doc string.
    ///   - metadata: key-value pairs kept in the file (what the model is, its input's meaning).
    func model(name: String, documentation: String, metadata: [(String, String)] = []) -> Onnx_ModelProto {
        var g = Onnx_GraphProto()
        (g.name, g.node, g.initializer, g.input, g.output) = (name, graphNodes, initializers, inputs, outputs)
        g.valueInfo = valueInfos
        var m = Onnx_ModelProto()
        // The IR version that came with each opset (onnx/helper.py VERSION_TABLE).
        m.irVersion = Int64([17: 8, 18: 8, 19: 9, 20: 9, 21: 10][opset] ?? 8)
        var operators = Onnx_OperatorSetIdProto()
        (operators.domain, operators.version) = ("", Int64(opset))
        m.opsetImport = [operators]
        (m.producerName, m.producerVersion, m.docString, m.graph) = ("tandem", "1", documentation, g)
        m.metadataProps = metadata.map { k, v in
            var e = Onnx_StringStringEntryProto()
            (e.key, e.value) = (k, v)
            return e
        }
        return m
    }

    static func info(_ v: ONNXValue) -> Onnx_ValueInfoProto {
        var shape = Onnx_TensorShapeProto()
        shape.dim = v.shape.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            switch d {
            case .fixed(let n): dim.dimValue = Int64(n)
            case .named(let s): dim.dimParam = s
            }
            return dim
        }
        var tensor = Onnx_TypeProto.Tensor()
        (tensor.elemType, tensor.shape) = (v.element.rawValue, shape)
        var type = Onnx_TypeProto()
        type.tensorType = tensor
        var info = Onnx_ValueInfoProto()
        (info.name, info.type) = (v.name, type)
        return info
    }
}
