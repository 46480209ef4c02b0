import Autograd

/// y = x·Wᵀ + b, with W (out, in) as in PyTorch.
public final class Linear: Layer {
    public var training = true
    public let weight: Tensor
    public let bias: Tensor?
    /// Int8 calibration or inference in place of the fp32 product; nil runs fp32.
    public var int8: Int8Mode?

    /// - Parameters:
    ///   - inFeatures: the size of the last axis of x.
    ///   - outFeatures: the size of the last axis of y.
    ///   - bias: learn an additive bias.
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) {
        weight = Init.defaultWeight([outFeatures, inFeatures])
        self.bias = bias ? Init.defaultBias(outFeatures, fanIn: inFeatures) : nil
    }

    /// From given tensors (tests and models that initialise their own).
    /// - Parameters:
    ///   - weight: (out, in).
    ///   - bias: (out) or nil.
    public init(weight: Tensor, bias: Tensor?) {
        precondition(
            weight.shape.rank == 2 && bias.map { $0.shape == [weight.shape[0]] } ?? true,
            "a linear layer needs weight (out, in) and bias (out), got \(weight.shape) and \(bias.map { "\($0.shape)" } ?? "none")"
        )
        (self.weight, self.bias) = (weight, bias)
    }

    /// (..., in) to (..., out).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        if let int8 { return ShapeTrace.note(self, int8.applyLinear(x, weight: weight, bias: bias)) }
        return ShapeTrace.note(self, linear(x, weight: weight, bias: bias))
    }
}
