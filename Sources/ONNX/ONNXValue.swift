/// A tensor flowing through the graph under construction: its name, element type and shape.
public struct ONNXValue: Sendable {
    /// The element types Tandem's graphs use.
    public enum Element: Int32, Sendable {
        case float = 1
        case uint8 = 2
        case int8 = 3
        case int64 = 7
    }

    public let name: String
    public let element: Element
    public let shape: [ONNXDim]

    public var rank: Int { shape.count }
}
