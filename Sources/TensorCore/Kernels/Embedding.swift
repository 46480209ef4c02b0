/// Embedding lookup: rows of a table gathered by integer ids, and the scatter-add backward.
public enum Embedding {
    static func check(_ ids: NDArray, rows: Int) {
        let p = ids.int32Pointer
        for i in 0..<ids.count where p[i] < 0 || Int(p[i]) >= rows {
            preconditionFailure("embedding id \(p[i]) at position \(i) is outside the table of \(rows) rows")
        }
    }

    /// out[i, :] = table[ids[i], :].
    /// - Parameters:
    ///   - table: (V, D).
    ///   - ids: int32, any shape S.
    /// - Returns: (S..., D).
    public static func forward(_ table: NDArray, ids: NDArray) -> NDArray {
        precondition(table.rank == 2, "embedding table must be (V, D), got \(table.shape)")
        check(ids, rows: table.shape[0])
        let d = table.shape[1]
        let out = NDArray(shape: Shape(ids.shape.dims + [d]), zeroed: false)
        let tp = table.ptr, op = out.ptr, ip = ids.int32Pointer
        ThreadPool.shared.parallelFor(ids.count, grain: max(1, 8192 / max(d, 1))) { r in
            for i in r { (op + i * d).update(from: tp + Int(ip[i]) * d, count: d) }
        }
        return out
    }

    /// dtable (V, D) with dtable[ids[i], :] += dy[i, :]; threads split the columns, so
    /// repeated ids never race.
    public static func backward(_ dy: NDArray, ids: NDArray, rows: Int) -> NDArray {
        let d = dy.shape[-1]
        let dt = NDArray(shape: [rows, d])
        let gp = dy.ptr, dp = dt.ptr, ip = ids.int32Pointer, n = ids.count
        ThreadPool.shared.parallelFor(d, grain: max(8, d * n < 1 << 16 ? d : 8)) { cols in
            for i in 0..<n {
                let src = gp + i * d, dst = dp + Int(ip[i]) * d
                for j in cols { dst[j] += src[j] }
            }
        }
        return dt
    }
}
