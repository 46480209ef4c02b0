/// Layer normalisation over the last axis, as llm.c's layernorm_forward/layernorm_backward.
public enum LayerNorm {
    /// y = (x - mean) · rstd · w + b per row.
    /// - Parameters:
    ///   - x: (rows, D), any leading shape flattened into rows; fp32 or 16-bit (read a row
    ///     at a time, widened in L1).
    ///   - w: the scale (D), or nil for no affine transform.
    ///   - b: the shift (D), or nil for no affine transform.
    ///   - eps: added to the variance before the square root.
    /// - Returns: y like x and in x's type (statistics in fp32, rounded once), and the
    ///   per-row mean and 1/std (rows) saved for backward.
    public static func forward(_ x: NDArray, weight w: NDArray?, bias b: NDArray?, eps: Float = 1e-5) -> (
        NDArray, NDArray, NDArray
    ) {
        let d = x.shape[-1], rows = x.count / max(d, 1)
        let y = NDArray(shape: x.shape, dtype: x.dtype, zeroed: false)
        let mean = NDArray(shape: [rows], zeroed: false), rstd = NDArray(shape: [rows], zeroed: false)
        let xs = RowAccess(x), ys = RowAccess(y), mp = mean.ptr, rp = rstd.ptr
        let wp = w?.ptr, bp = b?.ptr
        ThreadPool.shared.parallelFor(rows, grain: max(1, 8192 / max(d, 1))) { r in
            RowAccess.withScratch(2, d) { scratch in
                for i in r {
                    let row = xs.load(i * d, d, scratch), out = ys.target(i * d, scratch + d)
                    // Two passes (mean, then the centred values' squares) in eight lanes; the
                    // centred row waits in `out` for the scale.
                    let m = Reduce.sumContiguous(row, d) / Float(d)
                    for j in 0..<d { out[j] = row[j] - m }
                    let s = 1 / (Reduce.dotContiguous(out, out, d) / Float(d) + eps).squareRoot()
                    if let wp, let bp {
                        for j in 0..<d { out[j] = out[j] * s * wp[j] + bp[j] }
                    } else {
                        for j in 0..<d { out[j] *= s }
                        if let wp { for j in 0..<d { out[j] *= wp[j] } }
                        if let bp { for j in 0..<d { out[j] += bp[j] } }
                    }
                    ys.store(i * d, d, scratch + d)
                    mp[i] = m; rp[i] = s
                }
            }
        }
        return (y, mean, rstd)
    }

    /// Gradients (dx, dw, db) of layer norm; dw and db are nil without affine parameters.
    /// - Parameters:
    ///   - dy: the gradient of y, fp32 or 16-bit, read a row at a time.
    ///   - x: the forward input, fp32 or 16-bit, read a row at a time.
    ///   - mean: the per-row mean from `forward`.
    ///   - rstd: the per-row 1/std from `forward`.
    ///   - w: the scale (D), or nil.
    ///   - output: dx's type (16 bits rounds each row once, as it is written).
    public static func backward(
        _ dy: NDArray, x: NDArray, mean: NDArray, rstd: NDArray, weight w: NDArray?,
        output: DType = .float32
    ) -> (NDArray, NDArray?, NDArray?) {
        let d = x.shape[-1], rows = x.count / max(d, 1)
        let dx = NDArray(shape: x.shape, dtype: output, zeroed: false)
        let gs = RowAccess(dy), xs = RowAccess(x), dxs = RowAccess(dx), mp = mean.ptr, rp = rstd.ptr, wp = w?.ptr
        // dw = Σ_rows dy · norm and db = Σ_rows dy are summed per block of rows into a slot of
        // `partial`, then over the blocks in order. The blocks depend on the shape alone, so
        // the sums are the same bits on any number of threads.
        let block = max(max(1, 8192 / max(d, 1)), (rows + 63) / 64), blocks = (rows + block - 1) / block
        let partial = w == nil ? nil : NDArray(shape: [blocks, 2, d])
        let pp = partial?.ptr
        ThreadPool.shared.parallelFor(blocks) { bs in
            RowAccess.withScratch(4, d) { scratch in
                let norm = scratch + 3 * d
                for blk in bs {
                    for i in blk * block..<min(rows, (blk + 1) * block) {
                        let g = gs.load(i * d, d, scratch), row = xs.load(i * d, d, scratch + d)
                        let out = dxs.target(i * d, scratch + 2 * d)
                        let m = mp[i], s = rp[i]
                        for j in 0..<d { norm[j] = (row[j] - m) * s }
                        if let wp, let pp {
                            let dwb = pp + blk * 2 * d, dbb = dwb + d
                            for j in 0..<d { out[j] = g[j] * wp[j]; dwb[j] += g[j] * norm[j]; dbb[j] += g[j] }
                        } else {
                            for j in 0..<d { out[j] = g[j] }
                        }
                        // dnorm sits in `out` until it is replaced by dx.
                        let dnormMean = Reduce.sumContiguous(out, d) / Float(d)
                        let dnormNormMean = Reduce.dotContiguous(out, norm, d) / Float(d)
                        for j in 0..<d { out[j] = (out[j] - dnormMean - norm[j] * dnormNormMean) * s }
                        dxs.store(i * d, d, scratch + 2 * d)
                    }
                }
            }
        }
        guard let pp else { return (dx, nil, nil) }
        let dw = NDArray(shape: [d]), db = NDArray(shape: [d])
        let dwp = dw.ptr, dbp = db.ptr
        for blk in 0..<blocks {
            let dwb = pp + blk * 2 * d, dbb = dwb + d
            for j in 0..<d { dwp[j] += dwb[j]; dbp[j] += dbb[j] }
        }
        return (dx, dw, db)
    }
}
