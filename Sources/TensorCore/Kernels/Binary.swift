/// Binary elementwise ops with NumPy broadcasting, each with its backward pass.
public enum Binary {
    public enum Op: Sendable { case add, sub, mul, div, maximum, minimum }

    enum Add: PointwisePair { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a + b } }
    enum Sub: PointwisePair { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a - b } }
    enum Mul: PointwisePair { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a * b } }
    enum Div: PointwisePair { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a / b } }
    enum Maximum: PointwisePair {
        @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { Swift.max(a, b) }
    }
    enum Minimum: PointwisePair {
        @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { Swift.min(a, b) }
    }
    enum Negate: Pointwise { @inline(__always) static func apply(_ x: Float) -> Float { -x } }

    /// out = a (op) b, broadcasting both to their common shape.
    ///
    /// Two 16-bit arrays of one type and shape give a 16-bit result in one pass (widened and
    /// rounded in L1); otherwise the result is fp32.
    public static func forward(_ op: Op, _ a: NDArray, _ b: NDArray) -> NDArray {
        switch op {
        case .add: return forward(a, b, Add.self)
        case .sub: return forward(a, b, Sub.self)
        case .mul: return forward(a, b, Mul.self)
        case .div: return forward(a, b, Div.self)
        case .maximum: return forward(a, b, Maximum.self)
        case .minimum: return forward(a, b, Minimum.self)
        }
    }

    /// `forward` for one operator, each loop specialised for it (a per-element closure is not
    /// inlined into the thread pool's workers: the GPT's residual adds took 5 ns a value on two
    /// threads that way).
    static func forward<F: PointwisePair>(_ a: NDArray, _ b: NDArray, _: F.Type) -> NDArray {
        guard let shape = Shape.broadcast(a.shape, b.shape) else {
            preconditionFailure("shapes \(a.shape) and \(b.shape) do not broadcast")
        }
        if a.shape == b.shape && a.isHalf && a.dtype == b.dtype {
            return Unary.zipBlocks(a, b) { t, u, n in for i in 0..<n { t[i] = F.apply(t[i], u[i]) } }
        }
        let (a, b) = (a.float32, b.float32)
        if a.shape == b.shape { return Unary.zip(a, b, F.self) }
        let out = NDArray(shape: shape, zeroed: false)
        broadcastLoop(shape, a, b, out.ptr, F.self)
        return out
    }

    /// Iterates the broadcast index space row by row, the last (merged) axis innermost.
    static func broadcastLoop<F: PointwisePair>(
        _ shape: Shape, _ a: NDArray, _ b: NDArray, _ out: UnsafeMutablePointer<Float>,
        _: F.Type
    ) {
        let sa = StridedCopy.broadcastStrides(a.shape, to: shape), sb = StridedCopy.broadcastStrides(b.shape, to: shape)
        // Merge axes that are contiguous for the output and both inputs.
        var d: [Int] = [], xa: [Int] = [], xb: [Int] = []
        for i in 0..<shape.rank where shape.dims[i] != 1 {
            if let l = d.indices.last, xa[l] == sa[i] * shape.dims[i], xb[l] == sb[i] * shape.dims[i] {
                d[l] *= shape.dims[i]; xa[l] = sa[i]; xb[l] = sb[i]
            } else {
                d.append(shape.dims[i]); xa.append(sa[i]); xb.append(sb[i])
            }
        }
        if d.isEmpty { d = [1]; xa = [0]; xb = [0] }
        let r = d.count, inner = d[r - 1], ia = xa[r - 1], ib = xb[r - 1]
        let rows = shape.count / max(inner, 1)
        let ap = a.ptr, bp = b.ptr
        ThreadPool.shared.parallelFor(rows, grain: max(1, Unary.grain / max(inner, 1))) { range in
            for row in range {
                var rem = row, oa = 0, ob = 0
                for ax in stride(from: r - 2, through: 0, by: -1) {
                    let idx = rem % d[ax]; rem /= d[ax]
                    oa += idx * xa[ax]; ob += idx * xb[ax]
                }
                let pa = ap + oa, pb = bp + ob, po = out + row * inner
                if ia == 1 && ib == 1 {
                    for j in 0..<inner { po[j] = F.apply(pa[j], pb[j]) }
                } else if ia == 1 {
                    for j in 0..<inner { po[j] = F.apply(pa[j], pb[j * ib]) }
                } else if ib == 1 {
                    for j in 0..<inner { po[j] = F.apply(pa[j * ia], pb[j]) }
                } else {
                    for j in 0..<inner { po[j] = F.apply(pa[j * ia], pb[j * ib]) }
                }
            }
        }
    }

    /// Gradients (da, db) of out = a (op) b, each summed back to its input's shape.
    ///
    /// Any float types: an add passes a 16-bit dy through as it is, and a, b are widened
    /// only by the ops whose gradient reads them.
    /// - Parameters:
    ///   - op: the forward operation.
    ///   - dy: gradient of the broadcast output.
    ///   - a: the forward's left operand.
    ///   - b: the forward's right operand.
    public static func backward(_ op: Op, _ dy: NDArray, _ a: NDArray, _ b: NDArray) -> (NDArray, NDArray) {
        // Inputs are expanded only for the ops whose gradient reads them.
        var ea: NDArray { a.shape == dy.shape ? a : Layout.broadcast(a, to: dy.shape) }
        var eb: NDArray { b.shape == dy.shape ? b : Layout.broadcast(b, to: dy.shape) }
        let da: NDArray, db: NDArray
        switch op {
        case .add: da = dy; db = dy
        case .sub: da = dy; db = Unary.map(dy, Negate.self)
        case .mul: da = Unary.zip(dy, eb, Mul.self); db = Unary.zip(dy, ea, Mul.self)
        case .div:
            let (x, y) = (ea, eb)
            da = Unary.zip(dy, y, Div.self)
            db = Unary.zip3(dy, x, y) { g, x, y in -g * x / (y * y) }
        case .maximum, .minimum:
            // Ties split the gradient evenly, as PyTorch does.
            let (x, y) = (ea, eb), isMax = op == .maximum
            da = Unary.zip3(dy, x, y) { g, x, y in x == y ? g / 2 : ((x > y) == isMax ? g : 0) }
            db = Unary.zip3(dy, x, y) { g, x, y in x == y ? g / 2 : ((x > y) == isMax ? 0 : g) }
        }
        return (Reduce.sumTo(da, a.shape), Reduce.sumTo(db, b.shape))
    }
}
