#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Softmax and log-softmax along one axis, max-subtracted for stability.
public enum Softmax {
    /// Applies `body(base, stride, n)` to every lane along `axis`, in parallel.
    @inline(__always)
    static func lanes(_ shape: Shape, axis: Int, _ body: (Int, Int, Int) -> Void) {
        let (outer, n, inner) = shape.split(at: axis)
        ThreadPool.shared.parallelFor(outer * inner, grain: max(1, 8192 / max(n, 1))) { r in
            for lane in r { body((lane / inner) * n * inner + lane % inner, inner, n) }
        }
    }

    /// y = exp(x - max) / sum(exp(x - max)) along `axis`; log-softmax when `log` is true.
    public static func forward(_ x: NDArray, axis: Int = -1, log: Bool = false) -> NDArray {
        let y = NDArray(shape: x.shape, zeroed: false)
        let xp = x.ptr, yp = y.ptr
        lanes(x.shape, axis: axis) { base, s, n in
            let src = xp + base, dst = yp + base
            if s == 1 {
                // A contiguous lane (the last axis, as for cross-entropy's logits): max and sum in
                // eight lanes, the exponentials in their own loop, as `scaledRow`. The strided
                // loops below keep a running scalar sum and stay scalar.
                if !log { return scaledRow(src, dst, valid: n, length: n, scale: 1) }
                let m = Reduce.maxContiguous(src, n)
                for j in 0..<n { dst[j] = FastMath.exp(src[j] - m) }
                let lse = m + logf(Reduce.sumContiguous(dst, n))
                for j in 0..<n { dst[j] = src[j] - lse }
                return
            }
            var m = -Float.infinity
            for j in 0..<n { m = max(m, src[j * s]) }
            var sum: Float = 0
            for j in 0..<n { let e = FastMath.exp(src[j * s] - m); dst[j * s] = e; sum += e }
            if log {
                let lse = m + logf(sum)
                for j in 0..<n { dst[j * s] = src[j * s] - lse }
            } else {
                let inv = 1 / sum
                for j in 0..<n { dst[j * s] *= inv }
            }
        }
        return y
    }

    /// dx from dy and the forward output y: softmax y·(dy - Σ dy·y); log-softmax dy - e^y·Σ dy.
    public static func backward(_ dy: NDArray, y: NDArray, axis: Int = -1, log: Bool = false) -> NDArray {
        let dx = NDArray(shape: y.shape, zeroed: false)
        let gp = dy.ptr, yp = y.ptr, dp = dx.ptr
        lanes(y.shape, axis: axis) { base, s, n in
            let g = gp + base, yy = yp + base, d = dp + base
            if s == 1 {  // as in forward
                if !log { return scaledRowBackward(g, yy, d, valid: n, length: n, scale: 1) }
                let total = Reduce.sumContiguous(g, n)
                for j in 0..<n { d[j] = g[j] - FastMath.exp(yy[j]) * total }
                return
            }
            var dot: Float = 0
            if log {
                for j in 0..<n { dot += g[j * s] }
                for j in 0..<n { d[j * s] = g[j * s] - FastMath.exp(yy[j * s]) * dot }
            } else {
                for j in 0..<n { dot += g[j * s] * yy[j * s] }
                for j in 0..<n { d[j * s] = yy[j * s] * (g[j * s] - dot) }
            }
        }
        return dx
    }

    /// Causal attention weights: row i of each trailing (T, T) matrix is the softmax of
    /// `scale`·x[i, 0...i], and zero after i, in one pass.
    ///
    /// Fusing the scale and the mask into the softmax saves two full passes over the
    /// (B, H, T, T) scores, and the masked half is never exponentiated. 16-bit scores give
    /// 16-bit weights (the sums are fp32; each row is rounded once).
    /// Shapes: x (..., T, T) -> y (..., T, T).
    public static func causalForward(_ x: NDArray, scale: Float) -> NDArray {
        precondition(
            x.rank >= 2 && x.shape[-1] == x.shape[-2], "causal softmax needs (..., T, T) scores, got \(x.shape)")
        let t = x.shape[-1], rows = x.count / t
        let y = NDArray(shape: x.shape, dtype: x.dtype, zeroed: false)
        let xs = RowAccess(x), ys = RowAccess(y)
        ThreadPool.shared.parallelFor(rows, grain: max(1, 8192 / t)) { r in
            RowAccess.withScratch(2, t) { scratch in
                for row in r {
                    let i = row % t, src = xs.load(row * t, i + 1, scratch), dst = ys.target(row * t, scratch + t)
                    scaledRow(src, dst, valid: i + 1, length: t, scale: scale)
                    ys.store(row * t, t, scratch + t)
                }
            }
        }
        return y
    }

    /// dx of `causalForward`: scale·y·(dy - Σ dy·y) on and below the diagonal, zero above.
    /// Shapes: dy, y (..., T, T), fp32 or 16-bit -> dx (..., T, T) of type `output`.
    public static func causalBackward(_ dy: NDArray, y: NDArray, scale: Float, output: DType = .float32) -> NDArray {
        let t = y.shape[-1], rows = y.count / t
        let dx = NDArray(shape: y.shape, dtype: output, zeroed: false)
        let gs = RowAccess(dy), ys = RowAccess(y), dxs = RowAccess(dx)
        ThreadPool.shared.parallelFor(rows, grain: max(1, 8192 / t)) { r in
            RowAccess.withScratch(3, t) { scratch in
                for row in r {
                    let i = row % t, g = gs.load(row * t, i + 1, scratch), yy = ys.load(row * t, i + 1, scratch + t)
                    let d = dxs.target(row * t, scratch + 2 * t)
                    scaledRowBackward(g, yy, d, valid: i + 1, length: t, scale: scale)
                    dxs.store(row * t, t, scratch + 2 * t)
                }
            }
        }
        return dx
    }

    /// One row of attention weights: dst[0..<n] = softmax(scale · src[0..<n]) and dst[n..<t]
    /// = 0 (a causal row i has n = i + 1). `dst` may be `src`.
    ///
    /// The max and the sum run in eight lanes, and the exponentials in a loop of their own: a
    /// running scalar sum kept the exponentials scalar too (13 ns a score).
    @inline(__always)
    static func scaledRow(
        _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, valid n: Int, length t: Int, scale: Float
    ) {
        let m = Reduce.maxContiguous(src, n)
        for j in 0..<n { dst[j] = FastMath.exp(scale * (src[j] - m)) }
        let inv = 1 / Reduce.sumContiguous(dst, n)
        for j in 0..<n { dst[j] *= inv }
        for j in n..<t { dst[j] = 0 }
    }

    /// The gradient of `scaledRow`'s input: d[j] = scale·y[j]·(g[j] - Σ g·y) for j < n, zero
    /// after. `d` may be `g`.
    @inline(__always)
    static func scaledRowBackward(
        _ g: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>,
        valid n: Int, length t: Int, scale: Float
    ) {
        let dot = Reduce.dotContiguous(g, y, n)
        for j in 0..<n { d[j] = scale * y[j] * (g[j] - dot) }
        for j in n..<t { d[j] = 0 }
    }
}
