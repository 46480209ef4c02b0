/// Matrix products of NDArrays on top of the GEMM, with their backward passes.
public enum MatMul {
    /// op(A) · op(B) over the last two axes.
    ///
    /// Shapes: a (..., M, K) or (..., K, M) with `transA`; b (K, N), (N, K) with `transB`, or
    /// with the same leading batch axes as a. A 2-D b is shared by every batch entry.
    /// Either operand may be float16 or bfloat16 (widened while packed); the result is fp32.
    public static func forward(_ a: NDArray, _ b: NDArray, transA: Bool = false, transB: Bool = false) -> NDArray {
        precondition(a.rank >= 2 && b.rank >= 2, "matmul needs rank >= 2, got \(a.shape) and \(b.shape)")
        let m = transA ? a.shape[-1] : a.shape[-2], ka = transA ? a.shape[-2] : a.shape[-1]
        let kb = transB ? b.shape[-1] : b.shape[-2], n = transB ? b.shape[-2] : b.shape[-1]
        precondition(ka == kb, "matmul inner dimensions differ: \(a.shape)\(transA ? "ᵀ" : "") · \(b.shape)\(transB ? "ᵀ" : "")")
        let batchDims = Array(a.shape.dims.dropLast(2))
        let batch = batchDims.reduce(1, *)
        let out = NDArray(shape: Shape(batchDims + [m, n]), zeroed: false)
        if b.rank == 2 && !transA {
            // One tall GEMM over all batch rows.
            GEMM.gemm(transA: false, transB: transB, m: batch * m, n: n, k: ka, a: operand(a, ld: ka),
                      b: operand(b, ld: b.shape[-1]), c: out.ptr, ldc: n)
            return out
        }
        precondition(b.rank == 2 || Array(b.shape.dims.dropLast(2)) == batchDims,
                     "matmul batch axes differ: \(a.shape) and \(b.shape)")
        GEMM.batchedGemm(batch: batch, transA: transA, transB: transB, m: m, n: n, k: ka,
                         a: operand(a, ld: a.shape[-1]), strideA: m * ka,
                         b: operand(b, ld: b.shape[-1]), strideB: b.rank == 2 ? 0 : kb * n,
                         c: out.ptr, ldc: n, strideC: m * n)
        return out
    }

    /// x · Wᵀ + bias, the fully connected layer, in one GEMM: C starts as the bias in every
    /// row and the product accumulates onto it, so the bias costs no pass of its own (and, in
    /// 16 bits, no widening and re-rounding of the product).
    ///
    /// Shapes: x (rows, in), weight (out, in), bias (out) -> (rows, out), fp32. x and weight
    /// may be 16-bit.
    public static func linear(_ x: NDArray, _ weight: NDArray, bias: NDArray) -> NDArray {
        let rows = x.shape[0], k = x.shape[1], n = weight.shape[0]
        precondition(x.rank == 2 && weight.rank == 2 && weight.shape[1] == k && bias.count == n,
                     "linear shapes: x \(x.shape), weight \(weight.shape), bias \(bias.shape)")
        let out = NDArray(shape: [rows, n], zeroed: false)
        // Bound, so that a widened copy of a 16-bit bias lives until the rows are filled.
        let bias32 = bias.float32
        withExtendedLifetime(bias32) { for i in 0..<rows { (out.ptr + i * n).update(from: bias32.ptr, count: n) } }
        GEMM.gemm(transA: false, transB: true, m: rows, n: n, k: k, a: operand(x, ld: k), b: operand(weight, ld: k),
                  beta: 1, c: out.ptr, ldc: n)
        return out
    }

    static func operand(_ x: NDArray, ld: Int) -> GEMMOperand {
        GEMMOperand(raw: UnsafeRawPointer(x.storage.raw), dtype: x.dtype, ld: ld)
    }

    /// Gradients (da, db) of c = op(a) · op(b), in the stored layouts of a and b.
    /// - Parameters:
    ///   - needA, needB: compute that gradient (nil otherwise): the input gradient of a
    ///     network's first layer is a whole GEMM nobody reads.
    public static func backward(_ dc: NDArray, _ a: NDArray, _ b: NDArray, transA: Bool, transB: Bool,
                                needA: Bool = true, needB: Bool = true) -> (NDArray?, NDArray?) {
        var da: NDArray?, db: NDArray?
        switch (transA, transB) {
        case (false, false):
            if needA { da = forward(dc, b, transB: true) }
            if needB { db = forward(a, dc, transA: true) }
        case (false, true):
            if needA { da = forward(dc, b) }
            if needB { db = forward(dc, a, transA: true) }
        case (true, false):
            if needA { da = forward(b, dc, transB: true) }
            if needB { db = forward(a, dc) }
        case (true, true):
            if needA { da = forward(b, dc, transA: true, transB: true) }
            if needB { db = forward(dc, a, transA: true, transB: true) }
        }
        if let g = db, b.rank == 2 && a.rank > 2 {
            // b was shared by the batch: its gradient is the sum over batch entries.
            db = Reduce.sum(g.reshaped(Shape([g.count / b.count] + b.shape.dims)), axes: [0])
        }
        return (da, db)
    }
}
