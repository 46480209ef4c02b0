import Foundation

/// A node's attribute: a named number, list or string.
public enum ONNXAttribute: Sendable {
    case int(String, Int)
    case ints(String, [Int])
    case float(String, Float)
    case string(String, String)

    var proto: Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        switch self {
        case let .int(name, v): (a.name, a.type, a.i) = (name, .int, Int64(v))
        case let .ints(name, v): (a.name, a.type, a.ints) = (name, .ints, v.map(Int64.init))
        case let .float(name, v): (a.name, a.type, a.f) = (name, .float, v)
        case let .string(name, v): (a.name, a.type, a.s) = (name, .string, Data(v.utf8))
        }
        return a
    }
}
