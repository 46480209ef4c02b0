/// Copies between arbitrarily strided element layouts: the one loop behind permute, slice,
/// pad, concat, split and broadcast.
public enum StridedCopy {
    /// dst[index · dstStrides] = src[index · srcStrides] for every index of `dims`.
    ///
    /// Adjacent dimensions that are contiguous in both layouts are merged first, so a copy of
    /// whole rows runs as one long inner loop.
    /// - Parameters:
    ///   - dims: the extent of the copied region.
    ///   - src: the source's first element.
    ///   - srcStrides: element strides of the source (0 broadcasts).
    ///   - dst: the destination's first element.
    ///   - dstStrides: element strides of the destination.
    ///   - accumulate: add into dst instead of overwriting (used by backward passes).
    public static func copy(
        dims: [Int], src: UnsafePointer<Float>, srcStrides: [Int],
        dst: UnsafeMutablePointer<Float>, dstStrides: [Int], accumulate: Bool = false
    ) {
        guard accumulate else {
            return copyElements(dims: dims, src: src, srcStrides: srcStrides, dst: dst, dstStrides: dstStrides)
        }
        forEachRow(dims: dims, src: src, srcStrides: srcStrides, dst: dst, dstStrides: dstStrides) {
            s, si, t, di, inner in
            for j in 0..<inner { t[j * di] += s[j * si] }
        }
    }

    /// `copy` for elements of any type (16-bit floats move as their bits, with no widening).
    public static func copyElements<T: BitwiseCopyable>(
        dims: [Int], src: UnsafePointer<T>, srcStrides: [Int],
        dst: UnsafeMutablePointer<T>, dstStrides: [Int]
    ) {
        forEachRow(dims: dims, src: src, srcStrides: srcStrides, dst: dst, dstStrides: dstStrides) {
            s, si, t, di, inner in
            if si == 1 && di == 1 {
                t.update(from: s, count: inner)
            } else {
                for j in 0..<inner { t[j * di] = s[j * si] }
            }
        }
    }

    /// Calls `body(src, srcStride, dst, dstStride, count)` for every innermost row of the
    /// region, in parallel, after merging the dimensions that are contiguous in both layouts.
    @inline(__always)
    static func forEachRow<T>(
        dims: [Int], src: UnsafePointer<T>, srcStrides: [Int],
        dst: UnsafeMutablePointer<T>, dstStrides: [Int],
        _ body: (UnsafePointer<T>, Int, UnsafeMutablePointer<T>, Int, Int) -> Void
    ) {
        var d: [Int] = [], ss: [Int] = [], ds: [Int] = []
        for i in 0..<dims.count where dims[i] != 1 {
            if dims[i] == 0 { return }
            if let last = d.indices.last, ss[last] == srcStrides[i] * dims[i], ds[last] == dstStrides[i] * dims[i] {
                d[last] *= dims[i]; ss[last] = srcStrides[i]; ds[last] = dstStrides[i]
            } else {
                d.append(dims[i]); ss.append(srcStrides[i]); ds.append(dstStrides[i])
            }
        }
        if d.isEmpty { d = [1]; ss = [0]; ds = [0] }
        let r = d.count, inner = d[r - 1], si = ss[r - 1], di = ds[r - 1]
        let rows = d.dropLast().reduce(1, *)
        ThreadPool.shared.parallelFor(rows, grain: max(1, 16384 / max(inner, 1))) { range in
            for row in range {
                var rem = row, so = 0, dof = 0
                for ax in stride(from: r - 2, through: 0, by: -1) {
                    let idx = rem % d[ax]; rem /= d[ax]
                    so += idx * ss[ax]; dof += idx * ds[ax]
                }
                body(src + so, si, dst + dof, di, inner)
            }
        }
    }

    /// Strides of `shape` as seen from a broadcast to `target` (0 on broadcast axes).
    public static func broadcastStrides(_ shape: Shape, to target: Shape) -> [Int] {
        let st = shape.strides, off = target.rank - shape.rank
        precondition(off >= 0, "cannot broadcast \(shape) to lower-rank \(target)")
        return (0..<target.rank).map { i in
            if i < off { return 0 }
            let d = shape.dims[i - off]
            precondition(d == target.dims[i] || d == 1, "cannot broadcast \(shape) to \(target)")
            return d == 1 ? 0 : st[i - off]
        }
    }
}
