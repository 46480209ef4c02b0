import Autograd

/// Batch normalisation over the channel axis of (N, C, ...): BatchNorm1d and BatchNorm2d in one.
public final class BatchNorm: Layer {
    public var training = true
    public let weight: Tensor?
    public let bias: Tensor?
    public let runningMean: Buffer
    public let runningVar: Buffer
    public let momentum: Float, eps: Float

    /// - Parameters:
    ///   - channels: C of the input (N, C, ...).
    ///   - affine: learn a per-channel scale and shift.
    ///   - momentum: weight of the batch statistic in the running average (PyTorch's 0.1).
    ///   - eps: added to the variance before the square root.
    public init(_ channels: Int, momentum: Float = 0.1, eps: Float = 1e-5, affine: Bool = true) {
        weight = affine ? Tensor(Init.ones([channels]), requiresGrad: true) : nil
        bias = affine ? Tensor(Init.zeros([channels]), requiresGrad: true) : nil
        runningMean = Buffer(Init.zeros([channels]))
        runningVar = Buffer(Init.ones([channels]))
        (self.momentum, self.eps) = (momentum, eps)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let y = batchNorm(
            x, weight: weight, bias: bias, runningMean: runningMean.value, runningVar: runningVar.value,
            training: training, momentum: momentum, eps: eps)
        return ShapeTrace.note(self, y)
    }
}

/// Layer normalisation over the last axis.
public final class LayerNorm: Layer {
    public var training = true
    public let weight: Tensor?
    public let bias: Tensor?
    public let eps: Float

    public init(_ features: Int, eps: Float = 1e-5, affine: Bool = true) {
        weight = affine ? Tensor(Init.ones([features]), requiresGrad: true) : nil
        bias = affine ? Tensor(Init.zeros([features]), requiresGrad: true) : nil
        self.eps = eps
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        ShapeTrace.note(self, layerNorm(x, weight: weight, bias: bias, eps: eps))
    }
}
