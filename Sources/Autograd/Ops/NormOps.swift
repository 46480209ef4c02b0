import TensorCore

/// Layer normalisation over the last axis.
/// - Parameters:
///   - x: (..., D).
///   - weight: the scale (D), or nil for none.
///   - bias: the shift (D), or nil for none.
///   - eps: added to the variance before the square root.
public func layerNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Float = 1e-5) -> Tensor {
    // A 16-bit x, y and gradient are read and written a row at a time in their stored type.
    let xd = x.data, wd = weight?.values
    let (y, mean, rstd) = LayerNorm.forward(xd, weight: wd, bias: bias?.values, eps: eps)
    let inputs = [x] + [weight, bias].compactMap { $0 }
    return Tensor.record("layer_norm", y, inputs: inputs, halfGradient: true) { dy in
        let (dx, dw, db) = LayerNorm.backward(dy, x: xd, mean: mean, rstd: rstd, weight: wd, output: x.gradientType)
        return [dx] + (weight != nil ? [dw] : []) + (bias != nil ? [db] : [])
    }
}

/// Batch normalisation over (N, C, ...) per channel.
/// - Parameters:
///   - x: (N, C, ...).
///   - weight: the per-channel scale (C), or nil.
///   - bias: the per-channel shift (C), or nil.
///   - training: normalise with batch statistics and update the running ones; otherwise use the running ones.
///   - runningMean: (C) buffer, updated in place in training.
///   - runningVar: (C) buffer, updated in place in training.
///   - momentum: the weight of the batch statistics in the running ones (PyTorch's 0.1).
///   - eps: added to the variance before the square root.
public func batchNorm(
    _ x: Tensor, weight: Tensor?, bias: Tensor?, runningMean: NDArray?, runningVar: NDArray?,
    training: Bool, momentum: Float = 0.1, eps: Float = 1e-5
) -> Tensor {
    let xd = x.data, wd = weight?.values
    let y: NDArray, mean: NDArray, rstd: NDArray
    if training || runningMean == nil {
        (y, mean, rstd) = BatchNorm.trainForward(
            xd.float32, weight: wd, bias: bias?.values, runningMean: runningMean,
            runningVar: runningVar, momentum: momentum, eps: eps)
    } else {
        mean = runningMean!
        (y, rstd) = BatchNorm.evalForward(
            xd.float32, weight: wd, bias: bias?.values, runningMean: mean, runningVar: runningVar!, eps: eps)
    }
    let batchStats = training || runningMean == nil
    let inputs = [x] + [weight, bias].compactMap { $0 }
    return Tensor.record("batch_norm", y, inputs: inputs) { dy in
        let (dx, dw, db) = BatchNorm.backward(
            dy, x: xd.float32, mean: mean, rstd: rstd, weight: wd, training: batchStats)
        return [dx] + (weight != nil ? [dw] : []) + (bias != nil ? [db] : [])
    }
}
