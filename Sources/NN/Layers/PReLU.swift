import Autograd

/// Parametric ReLU with a learnable slope per channel (`torch.nn.PReLU`), initialised to 0.25.
public final class PReLU: Layer {
    public var training = true
    /// The slopes for negative inputs, (C) or (1).
    public let weight: Tensor

    /// - Parameters:
    ///   - channels: slopes, one per channel of axis 1 (1 for a single shared slope).
    ///   - initial: every slope's starting value (PyTorch's 0.25).
    public init(channels: Int = 1, initial: Float = 0.25) {
        weight = Tensor(NDArray(repeating: initial, shape: [channels]), requiresGrad: true)
    }

    /// (N, C, ...) to the same shape.
    public func callAsFunction(_ x: Tensor) -> Tensor { ShapeTrace.note(self, prelu(x, slope: weight)) }
}
