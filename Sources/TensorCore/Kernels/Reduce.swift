import _Builtin_intrinsics.intel
/// Reductions over any set of axes, with their backward passes.
///
/// Every reduction runs one axis at a time over an (outer, n, inner) view, so the inner
/// loop is always contiguous and vectorises; several axes are reduced in turn.
public enum Reduce {
    public enum Op: Sendable { case sum, max, min }

    /// Reduces one axis, keeping it with extent 1.
    static func reduceAxis(_ x: NDArray, _ axis: Int, _ op: Op) -> NDArray {
        let (outer, n, inner) = x.shape.split(at: axis)
        var dims = x.shape.dims
        dims[x.shape.axis(axis)] = 1
        let out = NDArray(shape: Shape(dims), zeroed: false)
        let xp = x.ptr, yp = out.ptr
        if inner == 1 {
            ThreadPool.shared.parallelFor(outer, grain: Swift.max(1, Unary.grain / Swift.max(n, 1))) { r in
                for o in r {
                    let row = xp + o * n
                    switch op {
                    case .sum: yp[o] = sumContiguous(row, n)
                    case .max: var m = -Float.infinity; for j in 0..<n { m = Swift.max(m, row[j]) }; yp[o] = m
                    case .min: var m = Float.infinity; for j in 0..<n { m = Swift.min(m, row[j]) }; yp[o] = m
                    }
                }
            }
            return out
        }
        ThreadPool.shared.parallelFor(outer * inner, grain: Unary.grain / Swift.max(n, 1) + 1) { r in
            // Work in (o, inner-chunk) units so each thread writes a disjoint part of out.
            var idx = r.lowerBound
            while idx < r.upperBound {
                let o = idx / inner, i0 = idx % inner
                let i1 = Swift.min(inner, i0 + (r.upperBound - idx))
                let dst = yp + o * inner
                let src = xp + o * n * inner
                for i in i0..<i1 { dst[i] = op == .sum ? 0 : src[i] }
                for j in (op == .sum ? 0 : 1)..<n {
                    let row = src + j * inner
                    switch op {
                    case .sum: for i in i0..<i1 { dst[i] += row[i] }
                    case .max: for i in i0..<i1 { dst[i] = Swift.max(dst[i], row[i]) }
                    case .min: for i in i0..<i1 { dst[i] = Swift.min(dst[i], row[i]) }
                    }
                }
                idx += i1 - i0
            }
        }
        return out
    }

    /// Sum of n contiguous floats with eight independent lanes (less rounding than a chain).
    @inline(__always)
    static func sumContiguous(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>()
        var j = 0
        let raw = UnsafeRawPointer(p)
        while j + 8 <= n { acc += raw.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self); j += 8 }
        var s = acc.sum()
        while j < n { s += p[j]; j += 1 }
        return s
    }

    /// Largest of n contiguous floats (n >= 1), eight lanes at a time (`vmaxps`; Swift's own
    /// max compiles to a scalar chain). A NaN may or may not win; callers that exponentiate
    /// against it get NaN either way.
    @inline(__always)
    static func maxContiguous(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var j = 0, m = -Float.infinity
        if n >= 8 {
            let raw = UnsafeRawPointer(p)
            var acc = raw.loadUnaligned(as: SIMD8<Float>.self)
            j = 8
            while j + 8 <= n {
                acc = _mm256_max_ps(acc, raw.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)); j += 8
            }
            m = acc.max()
        }
        while j < n { m = Swift.max(m, p[j]); j += 1 }
        return m
    }

    /// Σ a[j]·b[j] over n contiguous floats with eight independent lanes.
    @inline(__always)
    static func dotContiguous(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>()
        var j = 0
        let (ra, rb) = (UnsafeRawPointer(a), UnsafeRawPointer(b))
        while j + 8 <= n {
            acc +=
                ra.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
                * rb.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
            j += 8
        }
        var s = acc.sum()
        while j < n { s += a[j] * b[j]; j += 1 }
        return s
    }

    /// Normalised, sorted, de-duplicated axes; all axes when `axes` is nil.
    public static func normalize(_ axes: [Int]?, rank: Int) -> [Int] {
        guard let axes else { return Array(0..<rank) }
        let s = Shape([Int](repeating: 1, count: rank))
        return Array(Set(axes.map { s.axis($0) })).sorted()
    }

    /// The shape after reducing `axes`.
    public static func reducedShape(_ shape: Shape, _ axes: [Int], keepDims: Bool) -> Shape {
        if keepDims { var d = shape.dims; for a in axes { d[a] = 1 }; return Shape(d) }
        return Shape(shape.dims.enumerated().filter { !axes.contains($0.offset) }.map(\.element))
    }

    static func reduce(_ x: NDArray, _ axes: [Int]?, keepDims: Bool, _ op: Op) -> NDArray {
        let ax = normalize(axes, rank: x.rank)
        if op != .sum { for a in ax { precondition(x.shape[a] > 0, "\(op) over empty axis \(a) of \(x.shape)") } }
        var y = x
        for a in ax.reversed() { y = reduceAxis(y, a, op) }
        if ax.isEmpty { y = x.copy() }
        return y.reshaped(reducedShape(x.shape, ax, keepDims: keepDims))
    }

    public static func sum(_ x: NDArray, axes: [Int]? = nil, keepDims: Bool = false) -> NDArray {
        reduce(x, axes, keepDims: keepDims, .sum)
    }
    public static func max(_ x: NDArray, axes: [Int]? = nil, keepDims: Bool = false) -> NDArray {
        reduce(x, axes, keepDims: keepDims, .max)
    }
    public static func min(_ x: NDArray, axes: [Int]? = nil, keepDims: Bool = false) -> NDArray {
        reduce(x, axes, keepDims: keepDims, .min)
    }

    /// Number of elements each output of a reduction over `axes` combines.
    public static func reducedCount(_ shape: Shape, _ axes: [Int]?) -> Int {
        normalize(axes, rank: shape.rank).reduce(1) { $0 * shape[$1] }
    }

    public static func mean(_ x: NDArray, axes: [Int]? = nil, keepDims: Bool = false) -> NDArray {
        let s = sum(x, axes: axes, keepDims: keepDims)
        Unary.scaleInPlace(s, 1 / Float(Swift.max(reducedCount(x.shape, axes), 1)))
        return s
    }

    /// Variance with Bessel's `correction` (1 = unbiased, PyTorch's default; 0 = population).
    public static func variance(_ x: NDArray, axes: [Int]? = nil, correction: Int = 1, keepDims: Bool = false)
        -> NDArray
    {
        let n = reducedCount(x.shape, axes)
        let mu = mean(x, axes: axes, keepDims: true)
        let centered = Binary.forward(.sub, x, mu)
        let sq = sum(Unary.zip(centered, centered) { $0 * $1 }, axes: axes, keepDims: keepDims)
        Unary.scaleInPlace(sq, 1 / Float(Swift.max(n - correction, 1)))
        return sq
    }

    /// Index of the largest element along `axis` (the first one on ties), as int32.
    public static func argmax(_ x: NDArray, axis: Int, keepDims: Bool = false) -> NDArray {
        let (outer, n, inner) = x.shape.split(at: axis)
        precondition(n > 0, "argmax over an empty axis of \(x.shape)")
        let a = x.shape.axis(axis)
        let out = NDArray(shape: reducedShape(x.shape, [a], keepDims: keepDims), dtype: .int32, zeroed: false)
        let xp = x.ptr, op = out.int32Pointer
        for o in 0..<outer {
            for i in 0..<inner {
                var best = 0, bv = xp[o * n * inner + i]
                for j in 1..<n where xp[(o * n + j) * inner + i] > bv { bv = xp[(o * n + j) * inner + i]; best = j }
                op[o * inner + i] = Int32(best)
            }
        }
        return out
    }

    /// Column sums of a (rows, n) matrix of any float type, in fp32: the bias gradient of a
    /// linear layer, reading a 16-bit gradient in place (widened a row segment at a time).
    public static func columnSums(_ x: NDArray) -> NDArray {
        precondition(x.rank == 2, "column sums of a matrix, got \(x.shape)")
        if !x.isHalf { return sum(x, axes: [0]) }
        let rows = x.shape[0], n = x.shape[1]
        let out = NDArray(shape: [n])
        let xh = x.halfBits, op = out.ptr, dtype = x.dtype
        ThreadPool.shared.parallelFor(n, grain: Swift.max(64, Unary.grain / Swift.max(rows, 1))) { cols in
            let sums = op + cols.lowerBound, width = cols.count
            HalfCast.perType(dtype) { dtype in
                for i in 0..<rows {
                    // Eight columns at a time, widened in registers; the last few one at a time.
                    let row = xh + i * n + cols.lowerBound
                    var j = 0
                    while j &+ 8 <= width {
                        let total =
                            UnsafeRawPointer(sums + j).loadUnaligned(as: SIMD8<Float>.self)
                            + HalfCast.widen8(UnsafeRawPointer(row + j).loadUnaligned(as: SIMD8<UInt16>.self), dtype)
                        UnsafeMutableRawPointer(sums + j).storeBytes(of: total, as: SIMD8<Float>.self)
                        j &+= 8
                    }
                    while j < width { sums[j] += HalfCast.float(row[j], dtype); j += 1 }
                }
            }
        }
        return out
    }

    /// Sums `x` down to `shape`, undoing a broadcast (the backward of every broadcasting op).
    /// x as it is when no axis is summed, else an fp32 sum.
    public static func sumTo(_ x: NDArray, _ shape: Shape) -> NDArray {
        if x.shape == shape { return x }
        let off = x.rank - shape.rank
        precondition(off >= 0, "cannot sum \(x.shape) down to \(shape)")
        var axes: [Int] = Array(0..<off)
        for i in 0..<shape.rank where shape.dims[i] == 1 && x.shape.dims[i + off] != 1 { axes.append(i + off) }
        return sum(x.float32, axes: axes, keepDims: true).reshaped(shape)
    }

    /// Backward of sum: dy broadcast back over the reduced axes.
    public static func sum_backward(_ dy: NDArray, inputShape: Shape, axes: [Int]?) -> NDArray {
        let ax = normalize(axes, rank: inputShape.rank)
        return Layout.broadcast(dy.reshaped(reducedShape(inputShape, ax, keepDims: true)), to: inputShape)
    }

    /// Backward of max/min: dy to the elements equal to the result, split evenly among ties.
    public static func extremum_backward(_ dy: NDArray, x: NDArray, y: NDArray, axes: [Int]?) -> NDArray {
        let ax = normalize(axes, rank: x.rank)
        let keep = reducedShape(x.shape, ax, keepDims: true)
        let yb = Layout.broadcast(y.reshaped(keep), to: x.shape)
        let mask = Unary.zip(x, yb) { $0 == $1 ? 1 : 0 }
        let ties = sum(mask, axes: ax, keepDims: true)
        let share = Binary.forward(.div, dy.reshaped(keep), ties)
        return Binary.forward(.mul, mask, share)
    }

    /// Backward of variance: dx = dy · 2 (x - mean) / (n - correction).
    public static func variance_backward(_ dy: NDArray, x: NDArray, axes: [Int]?, correction: Int) -> NDArray {
        let ax = normalize(axes, rank: x.rank)
        let n = reducedCount(x.shape, ax)
        let centered = Binary.forward(.sub, x, mean(x, axes: ax, keepDims: true))
        let g = Binary.forward(.mul, centered, dy.reshaped(reducedShape(x.shape, ax, keepDims: true)))
        Unary.scaleInPlace(g, 2 / Float(Swift.max(n - correction, 1)))
        return g
    }
}
