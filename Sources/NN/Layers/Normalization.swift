import Autograd

/// Batch normalisation over the channel axis of (N, C, ...): BatchNorm1d and BatchNorm2d in one,
/// saved under PyTorch's names (`running_mean`, `running_var`, `num_batches_tracked`).
public final class BatchNorm: Layer, TensorNaming {
    public var training = true
    public let weight: Tensor?
    public let bias: Tensor?
    public let runningMean: Buffer
    public let runningVar: Buffer
    /// Batches seen in training mode, an int64 scalar as PyTorch keeps it.
    public let numBatchesTracked: Buffer
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
        numBatchesTracked = Buffer(NDArray(shape: [], dtype: .int64))
        (self.momentum, self.eps) = (momentum, eps)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let y = batchNorm(
            x, weight: weight, bias: bias, runningMean: runningMean.value, runningVar: runningVar.value,
            training: training, momentum: momentum, eps: eps)
        if training { counter.pointee += 1 }
        return ShapeTrace.note(self, y)
    }

    /// The batches counted so far (`num_batches_tracked`).
    public var batchesTracked: Int64 { counter.pointee }

    private var counter: UnsafeMutablePointer<Int64> {
        numBatchesTracked.value.storage.raw.assumingMemoryBound(to: Int64.self)
    }

    static let savedNames = [
        "runningMean": "running_mean", "runningVar": "running_var", "numBatchesTracked": "num_batches_tracked",
    ]

    public func exportedName(of name: String) -> String { Self.savedNames[name] ?? name }
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
