import TensorCore

extension Tensor {
    /// The same elements in a new shape; one dimension may be -1 (inferred).
    public func reshaped(_ dims: [Int]) -> Tensor {
        var d = dims
        if let i = d.firstIndex(of: -1) {
            let known = d.enumerated().filter { $0.offset != i }.reduce(1) { $0 * $1.element }
            precondition(known > 0 && count % known == 0, "cannot reshape \(shape) to \(dims)")
            d[i] = count / known
        }
        let inShape = shape
        return Tensor.record("reshape", data.reshaped(Shape(d)), inputs: [self], halfGradient: true) { dy in
            [dy.reshaped(inShape)]
        }
    }

    /// Flattens axes from `startAxis` on into one (PyTorch's flatten(start_dim)).
    public func flattened(from startAxis: Int = 1) -> Tensor {
        let a = shape.axis(startAxis)
        return reshaped(Array(shape.dims[..<a]) + [shape.dims[a...].reduce(1, *)])
    }

    /// Axes reordered: output axis i is input axis perm[i].
    public func permuted(_ perm: [Int]) -> Tensor {
        let inverse = Layout.inverse(perm)
        // 16-bit values and gradients move as they are stored.
        return Tensor.record("permute", Layout.permute(data, perm), inputs: [self], halfGradient: true) { dy in
            [Layout.permute(dy, inverse)]
        }
    }

    /// Swaps two axes.
    public func transposed(_ a0: Int = -2, _ a1: Int = -1) -> Tensor {
        var perm = Array(0..<rank)
        perm.swapAt(shape.axis(a0), shape.axis(a1))
        return permuted(perm)
    }

    /// Elements start, start+step, ... below end along `axis`.
    public func slice(axis: Int, start: Int, end: Int, step: Int = 1) -> Tensor {
        let inShape = shape
        return Tensor.record(
            "slice", Layout.slice(data, axis: axis, start: start, end: end, step: step), inputs: [self]
        ) { dy in
            [Layout.slice_backward(dy, inputShape: inShape, axis: axis, start: start, step: step)]
        }
    }

    /// Constant padding with one (before, after) pair per axis.
    public func padded(_ padding: [(Int, Int)], value: Float = 0) -> Tensor {
        let inShape = shape
        return Tensor.record("pad", Layout.pad(values, padding, value: value), inputs: [self]) { dy in
            [Layout.pad_backward(dy, padding, inputShape: inShape)]
        }
    }

    /// Expanded to `shape` by repeating axes of extent 1 (NumPy broadcasting).
    public func broadcast(to target: Shape) -> Tensor {
        let inShape = shape
        return Tensor.record("broadcast", Layout.broadcast(values, to: target), inputs: [self]) { dy in
            [Reduce.sumTo(dy, inShape)]
        }
    }

    /// Pieces of the given sizes along `axis`.
    public func split(sizes: [Int], axis: Int) -> [Tensor] {
        var start = 0
        return sizes.map { s in
            defer { start += s }
            return slice(axis: axis, start: start, end: start + s)
        }
    }
}

/// Joins tensors along `axis`.
public func concat(_ xs: [Tensor], axis: Int) -> Tensor {
    precondition(!xs.isEmpty, "concat of no tensors")
    let a = xs[0].shape.axis(axis)
    let sizes = xs.map { $0.shape[a] }
    return Tensor.record("concat", Layout.concat(xs.map(\.values), axis: a), inputs: xs) { dy in
        Layout.split(dy, sizes: sizes, axis: a)
    }
}
