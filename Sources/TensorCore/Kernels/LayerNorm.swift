/// Layer normalisation over the last axis, as llm.c's layernorm_forward/layernorm_backward.
public enum LayerNorm {
    /// y = (x - mean) · rstd · w + b per row.
    /// - Parameters:
    ///   - x: (rows, D), any leading shape flattened into rows; fp32 or 16-bit (read a row
    ///     at a time, widened in L1).
    ///   - w, b: (D), or nil for no affine transform.
    /// - Returns: y like x and in x's type (statistics in fp32, rounded once), and the
    ///   per-row mean and 1/std (rows) saved for backward.
    public static func forward(_ x: NDArray, weight w: NDArray?, bias b: NDArray?, eps: Float = 1e-5) -> (NDArray, NDArray, NDArray) {
        let d = x.shape[-1], rows = x.count / max(d, 1)
        let y = NDArray(shape: x.shape, dtype: x.dtype, zeroed: false)
        let mean = NDArray(shape: [rows], zeroed: false), rstd = NDArray(shape: [rows], zeroed: false)
        let xs = RowAccess(x), ys = RowAccess(y), mp = mean.ptr, rp = rstd.ptr
        let wp = w?.ptr, bp = b?.ptr
        ThreadPool.shared.parallelFor(rows, grain: max(1, 8192 / max(d, 1))) { r in
            RowAccess.withScratch(2, d) { scratch in
                for i in r {
                    let row = xs.load(i * d, d, scratch), out = ys.target(i * d, scratch + d)
                    let m = Reduce.sumContiguous(row, d) / Float(d)
                    var v: Float = 0
                    for j in 0..<d { let c = row[j] - m; v += c * c }
                    let s = 1 / (v / Float(d) + eps).squareRoot()
                    for j in 0..<d {
                        let n = (row[j] - m) * s
                        out[j] = n * (wp?[j] ?? 1) + (bp?[j] ?? 0)
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
    ///   - dy, x: fp32 or 16-bit, read a row at a time.
    ///   - output: dx's type (16 bits rounds each row once, as it is written).
    public static func backward(_ dy: NDArray, x: NDArray, mean: NDArray, rstd: NDArray, weight w: NDArray?,
                                output: DType = .float32) -> (NDArray, NDArray?, NDArray?) {
        let d = x.shape[-1], rows = x.count / max(d, 1)
        let dx = NDArray(shape: x.shape, dtype: output, zeroed: false)
        let gs = RowAccess(dy), xs = RowAccess(x), dxs = RowAccess(dx), mp = mean.ptr, rp = rstd.ptr, wp = w?.ptr
        ThreadPool.shared.parallelFor(rows, grain: max(1, 8192 / max(d, 1))) { r in
            RowAccess.withScratch(3, d) { scratch in
                for i in r {
                    let g = gs.load(i * d, d, scratch), row = xs.load(i * d, d, scratch + d)
                    let out = dxs.target(i * d, scratch + 2 * d)
                    let m = mp[i], s = rp[i]
                    var dnormMean: Float = 0, dnormNormMean: Float = 0
                    for j in 0..<d {
                        let norm = (row[j] - m) * s
                        let dnorm = g[j] * (wp?[j] ?? 1)
                        dnormMean += dnorm; dnormNormMean += dnorm * norm
                    }
                    dnormMean /= Float(d); dnormNormMean /= Float(d)
                    for j in 0..<d {
                        let norm = (row[j] - m) * s
                        let dnorm = g[j] * (wp?[j] ?? 1)
                        out[j] = (dnorm - dnormMean - norm * dnormNormMean) * s
                    }
                    dxs.store(i * d, d, scratch + 2 * d)
                }
            }
        }
        guard w != nil else { return (dx, nil, nil) }
        // dw = Σ_rows dy · norm and db = Σ_rows dy, split over columns so threads never collide.
        let dw = NDArray(shape: [d]), db = NDArray(shape: [d])
        let dwp = dw.ptr, dbp = db.ptr
        ThreadPool.shared.parallelFor(d, grain: 16) { cols in
            let c0 = cols.lowerBound, n = cols.count
            RowAccess.withScratch(2, n) { scratch in
                for i in 0..<rows {
                    let g = gs.load(i * d + c0, n, scratch), row = xs.load(i * d + c0, n, scratch + n), m = mp[i], s = rp[i]
                    for j in 0..<n { dwp[c0 + j] += g[j] * (row[j] - m) * s; dbp[c0 + j] += g[j] }
                }
            }
        }
        return (dx, dw, db)
    }
}
