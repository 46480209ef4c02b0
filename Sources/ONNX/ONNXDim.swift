/// One axis of a value's shape in an exported graph: a size known when exporting, or a name
/// for a size that is set only when the graph runs (the batch, a sequence's length).
public enum ONNXDim: Equatable, Sendable, CustomStringConvertible {
    case fixed(Int)
    case named(String)

    /// The symbolic batch axis every exported graph has.
    public static let batch = ONNXDim.named("batch")

    /// The size, when it is known.
    public var size: Int? {
        if case .fixed(let n) = self { return n }
        return nil
    }

    public var description: String {
        switch self {
        case .fixed(let n): return "\(n)"
        case .named(let name): return name
        }
    }
}
