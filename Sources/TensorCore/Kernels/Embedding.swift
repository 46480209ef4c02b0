/// Embedding lookup: rows of a table gathered by integer ids, and the scatter-add backward.
public enum Embedding {
    static func check(_ ids: NDArray, rows: Int) {
        let p = ids.int32Pointer
        for i in 0..<ids.count where p[i] < 0 || Int(p[i]) >= rows {
            preconditionFailure("embedding id \(p[i]) at position \(i) is outside the table of \(rows) rows")
        }
    }

    /// out[i, :] = table[ids[i], :], in the table's type (a 16-bit table gives 16-bit rows).
    /// - Parameters:
    ///   - table: (V, D).
    ///   - ids: int32, any shape S.
    ///   - rounding: for an fp32 table, round the gathered rows to this 16-bit type (mixed
    ///     precision reads a large table's few used rows, not a 16-bit copy of all of it).
    /// - Returns: (S..., D).
    public static func forward(_ table: NDArray, ids: NDArray, rounding: DType? = nil) -> NDArray {
        precondition(table.rank == 2, "embedding table must be (V, D), got \(table.shape)")
        check(ids, rows: table.shape[0])
        let rounding = table.dtype == .float32 ? rounding : nil
        let d = table.shape[1], rowBytes = d * table.dtype.byteSize
        let out = NDArray(shape: Shape(ids.shape.dims + [d]), dtype: rounding ?? table.dtype, zeroed: false)
        let tp = UnsafeRawPointer(table.storage.raw), op = out.storage.raw, ip = ids.int32Pointer
        ThreadPool.shared.parallelFor(ids.count, grain: max(1, 8192 / max(d, 1))) { r in
            if let rounding {
                let t = tp.assumingMemoryBound(to: Float.self), o = op.assumingMemoryBound(to: UInt16.self)
                for i in r { HalfCast.narrowBlock(t + Int(ip[i]) * d, o + i * d, d, rounding) }
            } else {
                for i in r { (op + i * rowBytes).copyMemory(from: tp + Int(ip[i]) * rowBytes, byteCount: rowBytes) }
            }
        }
        return out
    }

    /// dtable (V, D) in fp32 with dtable[ids[i], :] += dy[i, :]; a 16-bit dy is widened as it
    /// is read. Threads split the columns, so repeated ids never race.
    /// - Parameters:
    ///   - dy: (..., D), the gradients of the rows looked up.
    ///   - ids: int32, the table row each row of dy was looked up in.
    ///   - rows: V, the table's rows.
    ///   - adding: an fp32 (V, D) array to add into and return instead of a new one (the
    ///     table's gradient in the arena: a large vocabulary's step then allocates and zeroes nothing).
    public static func backward(_ dy: NDArray, ids: NDArray, rows: Int, adding: NDArray? = nil) -> NDArray {
        let d = dy.shape[-1]
        if let adding {
            precondition(
                adding.dtype == .float32 && adding.count == rows * d,
                "adding an embedding gradient into \(adding.shape)")
        }
        let dt = adding ?? NDArray(shape: [rows, d])
        let dp = dt.ptr, ip = ids.int32Pointer, n = ids.count, gs = RowAccess(dy)
        ThreadPool.shared.parallelFor(d, grain: max(8, d * n < 1 << 16 ? d : 8)) { cols in
            let c0 = cols.lowerBound, width = cols.count
            RowAccess.withScratch(1, width) { scratch in
                for i in 0..<n {
                    let src = gs.load(i * d + c0, width, scratch), dst = dp + Int(ip[i]) * d + c0
                    for j in 0..<width { dst[j] += src[j] }
                }
            }
        }
        return dt
    }
}
