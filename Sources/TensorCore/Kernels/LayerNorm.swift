/// Layer normalisation over the last axis, as llm.c's layernorm_forward/layernorm_backward.
public enum LayerNorm {
    /// y = (x - mean) · rstd · w + b per row.
    /// - Parameters:
    ///   - x: (rows, D), any leading shape flattened into rows.
    ///   - w, b: (D), or nil for no affine transform.
    /// - Returns: y like x, and the per-row mean and 1/std (rows) saved for backward.
    public static func forward(_ x: NDArray, weight w: NDArray?, bias b: NDArray?, eps: Float = 1e-5) -> (NDArray, NDArray, NDArray) {
        let d = x.shape[-1], rows = x.count / max(d, 1)
        let y = NDArray(shape: x.shape, zeroed: false)
        let mean = NDArray(shape: [rows], zeroed: false), rstd = NDArray(shape: [rows], zeroed: false)
        let xp = x.ptr, yp = y.ptr, mp = mean.ptr, rp = rstd.ptr
        let wp = w?.ptr, bp = b?.ptr
        ThreadPool.shared.parallelFor(rows, grain: max(1, 8192 / max(d, 1))) { r in
            for i in r {
                let row = xp + i * d, out = yp + i * d
                let m = Reduce.sumContiguous(row, d) / Float(d)
                var v: Float = 0
                for j in 0..<d { let c = row[j] - m; v += c * c }
                let s = 1 / (v / Float(d) + eps).squareRoot()
                for j in 0..<d {
                    let n = (row[j] - m) * s
                    out[j] = n * (wp?[j] ?? 1) + (bp?[j] ?? 0)
                }
                mp[i] = m; rp[i] = s
            }
        }
        return (y, mean, rstd)
    }

    /// Gradients (dx, dw, db) of layer norm; dw and db are nil without affine parameters.
    public static func backward(_ dy: NDArray, x: NDArray, mean: NDArray, rstd: NDArray, weight w: NDArray?)
        -> (NDArray, NDArray?, NDArray?) {
        let d = x.shape[-1], rows = x.count / max(d, 1)
        let dx = NDArray(shape: x.shape, zeroed: false)
        let gp = dy.ptr, xp = x.ptr, mp = mean.ptr, rp = rstd.ptr, dxp = dx.ptr, wp = w?.ptr
        ThreadPool.shared.parallelFor(rows, grain: max(1, 8192 / max(d, 1))) { r in
            for i in r {
                let g = gp + i * d, row = xp + i * d, out = dxp + i * d
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
            }
        }
        guard w != nil else { return (dx, nil, nil) }
        // dw = Σ_rows dy · norm and db = Σ_rows dy, split over columns so threads never collide.
        let dw = NDArray(shape: [d]), db = NDArray(shape: [d])
        let dwp = dw.ptr, dbp = db.ptr
        ThreadPool.shared.parallelFor(d, grain: 16) { cols in
            for i in 0..<rows {
                let g = gp + i * d, row = xp + i * d, m = mp[i], s = rp[i]
                for j in cols { dwp[j] += g[j] * (row[j] - m) * s; dbp[j] += g[j] }
            }
        }
        return (dx, dw, db)
    }
}
