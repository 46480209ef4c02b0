/// The plain tensor operators every emitter uses, each with the shape of its output.
extension GraphBuilder {
    /// a + b with NumPy broadcasting.
    public func add(_ a: Value, _ b: Value, scope: String) -> Value {
        node("Add", [a, b], scope: scope, shape: Self.broadcast(a.shape, b.shape))
    }

    /// a · b elementwise with NumPy broadcasting.
    public func mul(_ a: Value, _ b: Value, scope: String) -> Value {
        node("Mul", [a, b], scope: scope, shape: Self.broadcast(a.shape, b.shape))
    }

    /// a · s for a float scalar s.
    public func scale(_ a: Value, by s: Float, scope: String) -> Value {
        mul(a, constant([s], shape: []), scope: scope)
    }

    /// A unary operator that keeps the shape (Relu, Tanh, Sigmoid, Erf...).
    public func unary(_ op: String, _ x: Value, _ attributes: [ONNXAttribute] = [], scope: String) -> Value {
        node(op, [x], attributes, scope: scope, shape: x.shape)
    }

    /// x with its axes permuted.
    public func transpose(_ x: Value, _ perm: [Int], scope: String) -> Value {
        node("Transpose", [x], [.ints("perm", perm)], scope: scope, shape: perm.map { x.shape[$0] })
    }

    /// x reshaped; `target` may hold 0 (keep that axis) and one -1, and `shape` is the result's.
    public func reshape(_ x: Value, _ target: [Int], scope: String, shape: [Dim]) -> Value {
        node("Reshape", [x, int64s(target)], scope: scope, shape: shape)
    }

    /// x without the size-1 axes `axes`.
    public func squeeze(_ x: Value, axes: [Int], scope: String) -> Value {
        let kept = x.shape.indices.filter { !axes.contains($0) }.map { x.shape[$0] }
        return node("Squeeze", [x, int64s(axes)], scope: scope, shape: kept)
    }

    /// x with a size-1 axis inserted at `axis`.
    public func unsqueeze(_ x: Value, axis: Int, scope: String) -> Value {
        var shape = x.shape
        shape.insert(.fixed(1), at: axis)
        return node("Unsqueeze", [x, int64s([axis])], scope: scope, shape: shape)
    }

    /// Values joined along `axis`.
    public func concat(_ xs: [Value], axis: Int, scope: String) -> Value {
        var shape = xs[0].shape
        let sizes = xs.map { $0.shape[axis].size }
        shape[axis] = sizes.contains(nil) ? .named("\(xs[0].shape[axis])+") : .fixed(sizes.map { $0! }.reduce(0, +))
        return node("Concat", xs, [.int("axis", axis)], scope: scope, shape: shape, element: xs[0].element)
    }

    /// Equal parts of x along `axis`, each `size` long.
    public func split(_ x: Value, parts: Int, size: Int, axis: Int, scope: String) -> [Value] {
        var shape = x.shape
        shape[axis] = .fixed(size)
        return nodes(
            "Split", [x, int64s(Array(repeating: size, count: parts))], [.int("axis", axis)], scope: scope,
            shapes: Array(repeating: shape, count: parts))
    }

    /// x's size along `axis` as a 1-element int64 tensor.
    public func size(of x: Value, axis: Int, scope: String) -> Value {
        node(
            "Shape", [x], [.int("start", axis), .int("end", axis + 1)], scope: scope, shape: [.fixed(1)],
            element: .int64)
    }

    /// The first `length` (a 1-element int64 tensor) entries of x along `axis`.
    public func prefix(_ x: Value, length: Value, axis: Int, scope: String, size: Dim) -> Value {
        var shape = x.shape
        shape[axis] = size
        return node("Slice", [x, int64s([0]), length, int64s([axis])], scope: scope, shape: shape)
    }

    /// The shape of a broadcast of `a` and `b` (NumPy rules: aligned on the right, 1 stretches).
    static func broadcast(_ a: [Dim], _ b: [Dim]) -> [Dim] {
        let rank = max(a.count, b.count)
        let pa = Array(repeating: Dim.fixed(1), count: rank - a.count) + a
        let pb = Array(repeating: Dim.fixed(1), count: rank - b.count) + b
        return zip(pa, pb).map { x, y in x == .fixed(1) ? y : x }
    }
}
