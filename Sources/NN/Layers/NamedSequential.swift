import Autograd

/// Layers applied one after another, each under its own name (`c1.weight` rather than
/// `layers.0.weight`): the body of a model declared in a config.
public final class NamedSequential: Layer, ModuleContainer {
    public var training = true
    public let layers: [(name: String, layer: any Layer)]

    /// - Parameter layers: the layers in order with their names (unique, no dots).
    public init(_ layers: [(name: String, layer: any Layer)]) {
        precondition(Set(layers.map(\.name)).count == layers.count, "layer names must be unique")
        self.layers = layers
    }

    public var containedModules: [(String, any Module)] { layers.map { ($0.name, $0.layer as any Module) } }

    public func callAsFunction(_ x: Tensor) -> Tensor { ShapeTrace.note(self, layers.reduce(x) { $1.layer($0) }) }
}
