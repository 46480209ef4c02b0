/// Data movement: broadcast, permute, slice, pad, concat and split, with their backwards.
///
/// Storage is always contiguous, so each of these writes a new array through
/// `StridedCopy`; reshape alone is free (`NDArray.reshaped`).
public enum Layout {
    /// x expanded to `shape` by repeating along axes of extent 1 (NumPy rules).
    /// Any dtype; the result has x's.
    public static func broadcast(_ x: NDArray, to shape: Shape) -> NDArray {
        if x.shape == shape { return x }
        return moved(x, to: shape, srcStrides: StridedCopy.broadcastStrides(x.shape, to: shape))
    }

    /// Axes reordered: output axis i is input axis perm[i]. Any dtype; the result has x's.
    public static func permute(_ x: NDArray, _ perm: [Int]) -> NDArray {
        precondition(perm.sorted() == Array(0..<x.rank), "permutation \(perm) does not fit rank \(x.rank)")
        let st = x.shape.strides
        return moved(x, to: Shape(perm.map { x.shape.dims[$0] }), srcStrides: perm.map { st[$0] })
    }

    /// A new array of `shape` and x's dtype whose element at each index is x's element at
    /// srcOffset + index · srcStrides: elements move as their bits, so 16-bit arrays stay 16-bit.
    static func moved(_ x: NDArray, to shape: Shape, srcStrides: [Int], srcOffset: Int = 0) -> NDArray {
        let out = NDArray(shape: shape, dtype: x.dtype, zeroed: false)
        func run<T: BitwiseCopyable>(_: T.Type) {
            StridedCopy.copyElements(
                dims: shape.dims, src: UnsafePointer(x.storage.raw.assumingMemoryBound(to: T.self)) + srcOffset,
                srcStrides: srcStrides, dst: out.storage.raw.assumingMemoryBound(to: T.self),
                dstStrides: shape.strides)
        }
        switch x.dtype.byteSize {
        case 4: run(UInt32.self)
        case 2: run(UInt16.self)
        default: run(UInt8.self)
        }
        return out
    }

    /// The inverse permutation, for the backward of permute.
    public static func inverse(_ perm: [Int]) -> [Int] {
        var inv = [Int](repeating: 0, count: perm.count)
        for (i, p) in perm.enumerated() { inv[p] = i }
        return inv
    }

    /// Number of elements of `start..<end` taken every `step`.
    public static func sliceCount(start: Int, end: Int, step: Int) -> Int {
        end > start ? (end - start + step - 1) / step : 0
    }

    /// Elements start, start+step, ... below end along `axis`. Any dtype; the result has x's
    /// (a 16-bit slice of the LSTM's states had been widened whole and rounded back: 2.5% of
    /// its bf16 step).
    public static func slice(_ x: NDArray, axis: Int, start: Int, end: Int, step: Int = 1) -> NDArray {
        let a = x.shape.axis(axis)
        precondition(
            step >= 1 && start >= 0 && end <= x.shape[a] && start <= end,
            "slice \(start)..<\(end) step \(step) is out of range for axis \(a) of \(x.shape)")
        var dims = x.shape.dims
        dims[a] = sliceCount(start: start, end: end, step: step)
        var srcStrides = x.shape.strides
        let offset = start * srcStrides[a]
        srcStrides[a] *= step
        return moved(x, to: Shape(dims), srcStrides: srcStrides, srcOffset: offset)
    }

    /// Backward of slice: dy scattered into zeros of the input's shape.
    public static func slice_backward(_ dy: NDArray, inputShape: Shape, axis: Int, start: Int, step: Int) -> NDArray {
        let a = inputShape.axis(axis)
        let dx = NDArray(shape: inputShape)
        var dstStrides = inputShape.strides
        let offset = start * dstStrides[a]
        dstStrides[a] *= step
        StridedCopy.copy(
            dims: dy.shape.dims, src: dy.ptr, srcStrides: dy.shape.strides, dst: dx.ptr + offset, dstStrides: dstStrides
        )
        return dx
    }

    /// Pads each axis with (before, after) elements of `value`; `padding` has one pair per axis.
    public static func pad(_ x: NDArray, _ padding: [(Int, Int)], value: Float = 0) -> NDArray {
        precondition(padding.count == x.rank, "pad needs one (before, after) pair per axis of \(x.shape)")
        precondition(padding.allSatisfy { $0.0 >= 0 && $0.1 >= 0 }, "pad amounts must be non-negative")
        let shape = Shape(zip(x.shape.dims, padding).map { $0 + $1.0 + $1.1 })
        let out = NDArray(repeating: value, shape: shape)
        let st = shape.strides
        let offset = zip(padding, st).reduce(0) { $0 + $1.0.0 * $1.1 }
        StridedCopy.copy(
            dims: x.shape.dims, src: x.ptr, srcStrides: x.shape.strides, dst: out.ptr + offset, dstStrides: st)
        return out
    }

    /// Backward of pad: the interior of dy.
    public static func pad_backward(_ dy: NDArray, _ padding: [(Int, Int)], inputShape: Shape) -> NDArray {
        let st = dy.shape.strides
        let offset = zip(padding, st).reduce(0) { $0 + $1.0.0 * $1.1 }
        let dx = NDArray(shape: inputShape, zeroed: false)
        StridedCopy.copy(
            dims: inputShape.dims, src: dy.ptr + offset, srcStrides: st, dst: dx.ptr, dstStrides: inputShape.strides)
        return dx
    }

    /// Joins arrays along `axis`; all other extents must agree.
    public static func concat(_ xs: [NDArray], axis: Int) -> NDArray {
        precondition(!xs.isEmpty, "concat of no arrays")
        let a = xs[0].shape.axis(axis)
        for x in xs {
            precondition(
                x.rank == xs[0].rank && (0..<x.rank).allSatisfy { $0 == a || x.shape[$0] == xs[0].shape[$0] },
                "concat along axis \(a): shape \(x.shape) does not match \(xs[0].shape)")
        }
        var dims = xs[0].shape.dims
        dims[a] = xs.reduce(0) { $0 + $1.shape[a] }
        let out = NDArray(shape: Shape(dims), zeroed: false)
        let st = out.shape.strides
        var offset = 0
        for x in xs {
            StridedCopy.copy(
                dims: x.shape.dims, src: x.ptr, srcStrides: x.shape.strides, dst: out.ptr + offset * st[a],
                dstStrides: st)
            offset += x.shape[a]
        }
        return out
    }

    /// Cuts `x` along `axis` into pieces of the given sizes (the backward of concat).
    public static func split(_ x: NDArray, sizes: [Int], axis: Int) -> [NDArray] {
        let a = x.shape.axis(axis)
        precondition(
            sizes.reduce(0, +) == x.shape[a], "split sizes \(sizes) do not add up to \(x.shape[a]) on axis \(a)")
        var start = 0
        return sizes.map { s in
            defer { start += s }
            return slice(x, axis: a, start: start, end: start + s)
        }
    }
}
