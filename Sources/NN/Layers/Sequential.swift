import Autograd

/// Layers applied one after another; parameters are named `layers.<index>.<name>`.
public final class Sequential: Layer {
    public var training = true
    public let layers: [any Layer]

    public init(_ layers: [any Layer]) { self.layers = layers }
    public convenience init(_ layers: any Layer...) { self.init(layers) }

    public func callAsFunction(_ x: Tensor) -> Tensor { ShapeTrace.note(self, layers.reduce(x) { $1($0) }) }
}

/// Flattens (N, ...) to (N, features).
public final class Flatten: Layer {
    public var training = true
    public init() {}
    public func callAsFunction(_ x: Tensor) -> Tensor { ShapeTrace.note(self, x.flattened(from: 1)) }
}

/// A pointwise activation as a layer (ReLU, GELU, ...).
public final class ActivationLayer: Layer {
    public var training = true
    public let function: Activation
    public init(_ function: Activation) { self.function = function }
    public func callAsFunction(_ x: Tensor) -> Tensor { ShapeTrace.note(self, x.activation(function)) }
}
