import Autograd

/// A residual block: its layers' output plus its input (He et al. 2016), the input passed
/// through `projection` when the layers change its shape.
public final class Residual: Layer, ModuleContainer {
    public var training = true
    public let body: NamedSequential
    /// Maps the input to the body's output shape (a 1x1 convolution or a linear layer); nil: identity.
    public let projection: (any Layer)?

    /// - Parameters:
    ///   - layers: the inner layers with their names.
    ///   - projection: applied to the input before the sum; nil adds the input as it is.
    public init(_ layers: [(name: String, layer: any Layer)], projection: (any Layer)? = nil) {
        body = NamedSequential(layers)
        self.projection = projection
    }

    /// The inner layers by their names, then `projection`.
    public var containedModules: [(String, any Module)] {
        body.containedModules + (projection.map { [("projection", $0 as any Module)] } ?? [])
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let y = body(x)
        return ShapeTrace.note(self, y + (projection.map { $0(x) } ?? x))
    }
}
