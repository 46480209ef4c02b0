import TensorCore

/// Parametric ReLU (He et al. 2015, `torch.nn.functional.prelu`): x where x > 0, else a_c·x,
/// with one learnable slope per channel (axis 1) or one shared by all.
/// - Parameters:
///   - x: (N, C, ...) or (N, C).
///   - slope: (C), or (1) for a single slope.
/// - Returns: the shape of x.
public func prelu(_ x: Tensor, slope: Tensor) -> Tensor {
    let channels = slope.count
    precondition(
        slope.rank == 1 && (channels == 1 || (x.rank >= 2 && x.shape[1] == channels)),
        "prelu: \(channels) slopes do not fit input \(x.shape) (one per channel on axis 1, or one)")
    let input = x.values, a = slope.values
    // Elements of one channel are contiguous runs of `inner`, repeated for every sample.
    let inner = channels == 1 ? input.count : input.shape.dims.dropFirst(2).reduce(1, *)
    let out = NDArray(shape: input.shape, zeroed: false)
    let (xs, ys, slopes) = (input.ptr, out.ptr, a.ptr)
    for i in 0..<input.count {
        let v = xs[i]
        ys[i] = v > 0 ? v : slopes[(i / inner) % channels] * v
    }
    return Tensor.record("prelu", out, inputs: [x, slope]) { dy in
        let dx = NDArray(shape: input.shape, zeroed: false), da = NDArray(shape: a.shape)
        let (g, gx, ga) = (dy.ptr, dx.ptr, da.ptr)
        for i in 0..<input.count {
            let v = xs[i], c = (i / inner) % channels
            if v > 0 {
                gx[i] = g[i]
            } else {
                gx[i] = slopes[c] * g[i]
                ga[c] += g[i] * v
            }
        }
        return [x.requiresGrad ? dx : nil, slope.requiresGrad ? da : nil]
    }
}
