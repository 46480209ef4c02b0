/// The plain tensor operators every emitter uses, each with the shape of its output.
extension GraphBuilder {
    /// a + b with NumPy broadcasting.
    public func add(_ a: ONNXValue, _ b: ONNXValue, scope: String) -> ONNXValue {
        node("Add", [a, b], scope: scope, shape: Self.broadcast(a.shape, b.shape))
    }

    /// a · b elementwise with NumPy broadcasting.
    public func mul(_ a: ONNXValue, _ b: ONNXValue, scope: String) -> ONNXValue {
        node("Mul", [a, b], scope: scope, shape: Self.broadcast(a.shape, b.shape))
    }

    /// a · s for a float scalar s.
    public func scale(_ a: ONNXValue, by s: Float, scope: String) -> ONNXValue {
        mul(a, constant([s], shape: []), scope: scope)
    }

    /// A unary operator that keeps the shape (Relu, Tanh, Sigmoid, Erf...).
    public func unary(_ op: String, _ x: ONNXValue, _ attributes: [ONNXAttribute] = [], scope: String) -> ONNXValue {
        node(op, [x], attributes, scope: scope, shape: x.shape)
    }

    /// x with its axes permuted.
    public func transpose(_ x: ONNXValue, _ perm: [Int], scope: String) -> ONNXValue {
        node("Transpose", [x], [.ints("perm", perm)], scope: scope, shape: perm.map { x.shape[$0] })
    }

    /// x reshaped; `target` may hold 0 (keep that axis) and one -1, and `shape` is the result's.
    public func reshape(_ x: ONNXValue, _ target: [Int], scope: String, shape: [ONNXDim]) -> ONNXValue {
        node("Reshape", [x, int64s(target)], scope: scope, shape: shape)
    }

    /// x without the size-1 axes `axes`.
    public func squeeze(_ x: ONNXValue, axes: [Int], scope: String) -> ONNXValue {
        let kept = x.shape.indices.filter { !axes.contains($0) }.map { x.shape[$0] }
        return node("Squeeze", [x, int64s(axes)], scope: scope, shape: kept)
    }

    /// x with a size-1 axis inserted at `axis`.
    public func unsqueeze(_ x: ONNXValue, axis: Int, scope: String) -> ONNXValue {
        var shape = x.shape
        shape.insert(.fixed(1), at: axis)
        return node("Unsqueeze", [x, int64s([axis])], scope: scope, shape: shape)
    }

    /// Values joined along `axis`.
    public func concat(_ xs: [ONNXValue], axis: Int, scope: String) -> ONNXValue {
        var shape = xs[0].shape
        let sizes = xs.map { $0.shape[axis].size }
        shape[axis] =
            sizes.contains(nil)
            ? .named(xs.map { $0.shape[axis].description }.joined(separator: "+"))
            : .fixed(sizes.map { $0! }.reduce(0, +))
        return node("Concat", xs, [.int("axis", axis)], scope: scope, shape: shape, element: xs[0].element)
    }

    /// Equal parts of x along `axis`, each `size` long.
    public func split(_ x: ONNXValue, parts: Int, size: Int, axis: Int, scope: String) -> [ONNXValue] {
        var shape = x.shape
        shape[axis] = .fixed(size)
        return nodes(
            "Split", [x, int64s(Array(repeating: size, count: parts))], [.int("axis", axis)], scope: scope,
            shapes: Array(repeating: shape, count: parts))
    }

    /// x's size along `axis` as a 1-element int64 tensor.
    public func size(of x: ONNXValue, axis: Int, scope: String) -> ONNXValue {
        node(
            "Shape", [x], [.int("start", axis), .int("end", axis + 1)], scope: scope, shape: [.fixed(1)],
            element: .int64)
    }

    /// The first `length` (a 1-element int64 tensor) entries of x along `axis`.
    public func prefix(_ x: ONNXValue, length: ONNXValue, axis: Int, scope: String, size: ONNXDim) -> ONNXValue {
        var shape = x.shape
        shape[axis] = size
        return node("Slice", [x, int64s([0]), length, int64s([axis])], scope: scope, shape: shape)
    }

    /// The shape of a broadcast of `a` and `b` (NumPy rules: aligned on the right, 1 stretches).
    static func broadcast(_ a: [ONNXDim], _ b: [ONNXDim]) -> [ONNXDim] {
        let rank = max(a.count, b.count)
        let pa = Array(repeating: ONNXDim.fixed(1), count: rank - a.count) + a
        let pb = Array(repeating: ONNXDim.fixed(1), count: rank - b.count) + b
        return zip(pa, pb).map { x, y in x == .fixed(1) ? y : x }
    }
}
