/// Why a model cannot be exported to ONNX, in words that say what to do instead.
public struct ONNXExportError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }

    /// The opsets the exporter writes.
    public static let supportedOpsets = 17...21

    /// A module type the exporter has no translation for.
    static func unsupported(_ module: Any, at scope: String) -> ONNXExportError {
        let place = scope.isEmpty ? "the model" : "layer \(scope)"
        return ONNXExportError(
            "\(place) is a \(type(of: module)), which the ONNX export does not translate; "
                + "export a model built from the zoo's models or a sequential model's layers")
    }

    /// An opset outside `supportedOpsets`.
    public static func opset(_ opset: Int) -> ONNXExportError {
        ONNXExportError(
            "--opset \(opset) is not supported; give one of \(supportedOpsets.lowerBound)..."
                + "\(supportedOpsets.upperBound) (17 is the default, 20 and later write GELU as one Gelu node)")
    }
}
