/// Batch normalisation over (N, C, *) per channel, with running statistics.
public enum BatchNorm {
    static func layout(_ x: NDArray) -> (n: Int, c: Int, s: Int) {
        precondition(x.rank >= 2, "batch norm input must be (N, C, ...), got \(x.shape)")
        return (x.shape[0], x.shape[1], x.count / max(x.shape[0] * x.shape[1], 1))
    }

    /// Normalises with batch statistics (training) and updates the running ones in place.
    /// - Parameters:
    ///   - x: (N, C, ...).
    ///   - w: the per-channel scale (C), or nil.
    ///   - b: the per-channel shift (C), or nil.
    ///   - runningMean: (C), updated as (1 - momentum)·old + momentum·batch.
    ///   - runningVar: (C), updated the same way with the unbiased batch variance (PyTorch).
    ///   - momentum: the weight of the batch statistics in the running ones.
    ///   - eps: added to the variance before the square root.
    /// - Returns: y like x, and the batch mean and 1/std (C) saved for backward.
    public static func trainForward(
        _ x: NDArray, weight w: NDArray?, bias b: NDArray?, runningMean: NDArray?,
        runningVar: NDArray?, momentum: Float = 0.1, eps: Float = 1e-5
    ) -> (NDArray, NDArray, NDArray) {
        let (n, c, s) = layout(x)
        let m = n * s
        precondition(m > 1, "batch norm in training needs more than one value per channel, got input \(x.shape)")
        let y = NDArray(shape: x.shape, zeroed: false)
        let mean = NDArray(shape: [c], zeroed: false), rstd = NDArray(shape: [c], zeroed: false)
        let xp = x.ptr, yp = y.ptr, mp = mean.ptr, rp = rstd.ptr, wp = w?.ptr, bp = b?.ptr
        let rmp = runningMean?.ptr, rvp = runningVar?.ptr
        ThreadPool.shared.parallelFor(c) { r in
            for ch in r {
                var sum: Double = 0
                for i in 0..<n { sum += Double(Reduce.sumContiguous(xp + (i * c + ch) * s, s)) }
                let mu = Float(sum / Double(m))
                var sq: Double = 0
                for i in 0..<n {
                    let row = xp + (i * c + ch) * s
                    var acc: Float = 0
                    for j in 0..<s { let d = row[j] - mu; acc += d * d }
                    sq += Double(acc)
                }
                let variance = Float(sq / Double(m))
                let inv = 1 / (variance + eps).squareRoot()
                let scale = inv * (wp?[ch] ?? 1), shift = (bp?[ch] ?? 0) - mu * scale
                for i in 0..<n {
                    let src = xp + (i * c + ch) * s, dst = yp + (i * c + ch) * s
                    for j in 0..<s { dst[j] = src[j] * scale + shift }
                }
                mp[ch] = mu; rp[ch] = inv
                if let rmp, let rvp {
                    rmp[ch] = (1 - momentum) * rmp[ch] + momentum * mu
                    rvp[ch] = (1 - momentum) * rvp[ch] + momentum * variance * Float(m) / Float(m - 1)
                }
            }
        }
        return (y, mean, rstd)
    }

    /// Normalises with the running statistics (evaluation). Returns y and 1/std (C).
    public static func evalForward(
        _ x: NDArray, weight w: NDArray?, bias b: NDArray?, runningMean: NDArray,
        runningVar: NDArray, eps: Float = 1e-5
    ) -> (NDArray, NDArray) {
        let (n, c, s) = layout(x)
        let y = NDArray(shape: x.shape, zeroed: false)
        let rstd = Unary.map(runningVar) { 1 / ($0 + eps).squareRoot() }
        let xp = x.ptr, yp = y.ptr, rp = rstd.ptr, mp = runningMean.ptr, wp = w?.ptr, bp = b?.ptr
        ThreadPool.shared.parallelFor(n * c, grain: max(1, 8192 / max(s, 1))) { r in
            for row in r {
                let ch = row % c
                let scale = rp[ch] * (wp?[ch] ?? 1), shift = (bp?[ch] ?? 0) - mp[ch] * scale
                let src = xp + row * s, dst = yp + row * s
                for j in 0..<s { dst[j] = src[j] * scale + shift }
            }
        }
        return (y, rstd)
    }

    /// Gradients (dx, dw, db). In training mode the batch statistics depend on x; in
    /// evaluation mode (`training` false) they are constants.
    /// - Parameters:
    ///   - dy: the gradient of y (N, C, ...).
    ///   - x: the forward input.
    ///   - mean: the mean the forward pass normalised with (C).
    ///   - rstd: the 1/std the forward pass normalised with (C).
    ///   - w: the per-channel scale (C), or nil.
    ///   - training: whether forward normalised with the batch statistics.
    public static func backward(
        _ dy: NDArray, x: NDArray, mean: NDArray, rstd: NDArray, weight w: NDArray?,
        training: Bool
    ) -> (NDArray, NDArray?, NDArray?) {
        let (n, c, s) = layout(x)
        let m = Float(n * s)
        let dx = NDArray(shape: x.shape, zeroed: false)
        let dw = NDArray(shape: [c]), db = NDArray(shape: [c])
        let gp = dy.ptr, xp = x.ptr, mp = mean.ptr, rp = rstd.ptr, wp = w?.ptr
        let dxp = dx.ptr, dwp = dw.ptr, dbp = db.ptr
        ThreadPool.shared.parallelFor(c) { r in
            for ch in r {
                let mu = mp[ch], inv = rp[ch], gamma = wp?[ch] ?? 1
                var sumG: Float = 0, sumGX: Float = 0
                for i in 0..<n {
                    let g = gp + (i * c + ch) * s, row = xp + (i * c + ch) * s
                    for j in 0..<s { sumG += g[j]; sumGX += g[j] * (row[j] - mu) * inv }
                }
                dbp[ch] = sumG; dwp[ch] = sumGX
                for i in 0..<n {
                    let g = gp + (i * c + ch) * s, row = xp + (i * c + ch) * s, out = dxp + (i * c + ch) * s
                    if training {
                        for j in 0..<s {
                            let xhat = (row[j] - mu) * inv
                            out[j] = gamma * inv * (g[j] - sumG / m - xhat * sumGX / m)
                        }
                    } else {
                        for j in 0..<s { out[j] = gamma * inv * g[j] }
                    }
                }
            }
        }
        return (dx, w == nil ? nil : dw, w == nil ? nil : db)
    }
}
