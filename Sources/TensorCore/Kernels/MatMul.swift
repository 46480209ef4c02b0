/// Matrix products of NDArrays on top of the GEMM, with their backward passes.
public enum MatMul {
    /// op(A) · op(B) over the last two axes.
    ///
    /// Shapes: a (..., M, K) or (..., K, M) with `transA`; b (K, N), (N, K) with `transB`, or
    /// with the same leading batch axes as a. A 2-D b is shared by every batch entry.
    /// Either operand may be float16 or bfloat16 (widened while packed).
    /// - Parameters:
    ///   - a: the left operand.
    ///   - b: the right operand.
    ///   - transA: use a with its last two axes transposed.
    ///   - transB: use b with its last two axes transposed.
    ///   - output: the result's type; a 16-bit result is rounded once as the GEMM writes it
    ///     (or, for a product deeper than one GEMM pass, computed in fp32 and converted).
    ///   - roundA: read a, when it is fp32, as if rounded to this 16-bit type (`GEMMOperand.rounding`).
    ///   - roundB: read b, when it is fp32, as if rounded to this 16-bit type.
    ///   - sum: an fp32 array of the result's size to add the product into (GEMM's beta =
    ///     1), returned instead of a new array: a weight gradient summed straight into its
    ///     buffer costs no array and no pass of its own.
    public static func forward(
        _ a: NDArray, _ b: NDArray, transA: Bool = false, transB: Bool = false,
        output: DType = .float32, roundA: DType? = nil, roundB: DType? = nil,
        adding sum: NDArray? = nil
    ) -> NDArray {
        precondition(a.rank >= 2 && b.rank >= 2, "matmul needs rank >= 2, got \(a.shape) and \(b.shape)")
        let m = transA ? a.shape[-1] : a.shape[-2], ka = transA ? a.shape[-2] : a.shape[-1]
        let kb = transB ? b.shape[-1] : b.shape[-2], n = transB ? b.shape[-2] : b.shape[-1]
        precondition(
            ka == kb, "matmul inner dimensions differ: \(a.shape)\(transA ? "ᵀ" : "") · \(b.shape)\(transB ? "ᵀ" : "")")
        let batchDims = Array(a.shape.dims.dropLast(2))
        let batch = batchDims.reduce(1, *)
        if let sum {
            precondition(
                output == .float32 && sum.dtype == .float32 && sum.count == batch * m * n,
                "adding a product of \(batch * m * n) values into \(sum.dtype) \(sum.shape)")
        }
        if output != .float32 && !GEMM.writesHalfOutput(k: ka) {
            return forward(a, b, transA: transA, transB: transB, roundA: roundA, roundB: roundB).converted(to: output)
        }
        let out = sum ?? NDArray(shape: Shape(batchDims + [m, n]), dtype: output, zeroed: false)
        let c = result(out, ld: n), beta: Float = sum == nil ? 0 : 1
        if b.rank == 2 && !transA {
            // One tall GEMM over all batch rows.
            GEMM.gemm(
                transA: false, transB: transB, m: batch * m, n: n, k: ka, a: operand(a, ld: ka, rounding: roundA),
                b: operand(b, ld: b.shape[-1], rounding: roundB), beta: beta, output: c)
            return out
        }
        precondition(
            b.rank == 2 || Array(b.shape.dims.dropLast(2)) == batchDims,
            "matmul batch axes differ: \(a.shape) and \(b.shape)")
        GEMM.batchedGemm(
            batch: batch, transA: transA, transB: transB, m: m, n: n, k: ka,
            a: operand(a, ld: a.shape[-1], rounding: roundA), strideA: m * ka,
            b: operand(b, ld: b.shape[-1], rounding: roundB), strideB: b.rank == 2 ? 0 : kb * n,
            beta: beta, output: c, strideC: m * n)
        return out
    }

    /// x · Wᵀ + bias, the fully connected layer, in one GEMM that adds the bias as each tile of
    /// C leaves the registers (`GEMMOutput.bias`), so the bias costs no pass of its own (and, in
    /// 16 bits, no widening and re-rounding of the product).
    ///
    /// Shapes: x (rows, in), weight (out, in), bias (out) -> (rows, out). x and weight may be
    /// 16-bit.
    /// - Parameters:
    ///   - x: (rows, in).
    ///   - weight: (out, in).
    ///   - bias: (out), fp32.
    ///   - output: the result's type; a 16-bit result gets the fp32 bias added to the fp32
    ///     product and is rounded once, as the GEMM writes it (or, for a product deeper than
    ///     one GEMM pass, is computed in fp32 and converted).
    ///   - roundX: read x, when it is fp32, as if rounded to this 16-bit type (`GEMMOperand.rounding`).
    ///   - roundWeight: read the weight, when it is fp32, as if rounded to this 16-bit type.
    public static func linear(
        _ x: NDArray, _ weight: NDArray, bias: NDArray, output: DType = .float32,
        roundX: DType? = nil, roundWeight: DType? = nil
    ) -> NDArray {
        let rows = x.shape[0], k = x.shape[1], n = weight.shape[0]
        precondition(
            x.rank == 2 && weight.rank == 2 && weight.shape[1] == k && bias.count == n,
            "linear shapes: x \(x.shape), weight \(weight.shape), bias \(bias.shape)")
        // Bound, so that a widened copy of a 16-bit bias lives until the GEMM is done.
        let bias32 = bias.float32
        let written = output != .float32 && GEMM.writesHalfOutput(k: k) ? output : .float32
        let out = NDArray(shape: [rows, n], dtype: written, zeroed: false)
        withExtendedLifetime(bias32) {
            GEMM.gemm(
                transA: false, transB: true, m: rows, n: n, k: k, a: operand(x, ld: k, rounding: roundX),
                b: operand(weight, ld: k, rounding: roundWeight), output: result(out, ld: n, bias: bias32.ptr))
        }
        return written == output ? out : out.converted(to: output)
    }

    /// `x` as a GEMM operand; `rounding` applies only when x is fp32.
    static func operand(_ x: NDArray, ld: Int, rounding: DType? = nil) -> GEMMOperand {
        GEMMOperand(
            raw: UnsafeRawPointer(x.storage.raw), dtype: x.dtype, ld: ld, rounding: x.dtype == .float32 ? rounding : nil
        )
    }

    /// Where the GEMM writes `out`: fp32 or 16 bits by its type, with `bias` added to every row.
    static func result(_ out: NDArray, ld: Int, bias: UnsafePointer<Float>? = nil) -> GEMMOutput {
        out.isHalf
            ? GEMMOutput(half: out.halfBits, dtype: out.dtype, ld: ld, bias: bias)
            : GEMMOutput(out.ptr, ld: ld, bias: bias)
    }

    /// Gradients (da, db) of c = op(a) · op(b), in the stored layouts of a and b.
    /// - Parameters:
    ///   - dc: any float type (a 16-bit gradient is read by the GEMM as it is).
    ///   - a: the forward's left operand.
    ///   - b: the forward's right operand.
    ///   - transA: as given to `forward`.
    ///   - transB: as given to `forward`.
    ///   - needA: compute a's gradient (nil otherwise): the input gradient of a network's first
    ///     layer is a whole GEMM nobody reads.
    ///   - needB: compute b's gradient (nil otherwise).
    ///   - typeA: the type to return da in (16 bits when backward stores it so: rounded once by the GEMM).
    ///   - typeB: the type to return db in.
    ///   - roundA: the rounding forward read a with.
    ///   - roundB: the rounding forward read b with (dc is read as it is).
    ///   - addingA: an fp32 buffer to add da into, returned in its place (a parameter's gradient
    ///     in the arena, see `Tensor.gradientBuffer`); the type is then fp32.
    ///   - addingB: the same for db; a b shared by a batch ignores it: its gradient is a sum over the batch.
    public static func backward(
        _ dc: NDArray, _ a: NDArray, _ b: NDArray, transA: Bool, transB: Bool,
        needA: Bool = true, needB: Bool = true,
        typeA: DType = .float32, typeB: DType = .float32,
        roundA: DType? = nil, roundB: DType? = nil,
        addingA: NDArray? = nil, addingB: NDArray? = nil
    ) -> (NDArray?, NDArray?) {
        var da: NDArray?, db: NDArray?
        // A b shared by a batch sums its gradient over the batch below, in fp32 (and returns it).
        let sharedB = b.rank == 2 && a.rank > 2
        let addingB = sharedB ? nil : addingB
        let typeA = addingA == nil ? typeA : .float32, typeB = addingB == nil && !sharedB ? typeB : .float32
        switch (transA, transB) {
        case (false, false):
            if needA { da = forward(dc, b, transB: true, output: typeA, roundB: roundB, adding: addingA) }
            if needB { db = forward(a, dc, transA: true, output: typeB, roundA: roundA, adding: addingB) }
        case (false, true):
            if needA { da = forward(dc, b, output: typeA, roundB: roundB, adding: addingA) }
            if needB { db = forward(dc, a, transA: true, output: typeB, roundB: roundA, adding: addingB) }
        case (true, false):
            if needA { da = forward(b, dc, transB: true, output: typeA, roundA: roundB, adding: addingA) }
            if needB { db = forward(a, dc, output: typeB, roundA: roundA, adding: addingB) }
        case (true, true):
            if needA { da = forward(b, dc, transA: true, transB: true, output: typeA, roundA: roundB, adding: addingA) }
            if needB { db = forward(dc, a, transA: true, transB: true, output: typeB, roundB: roundA, adding: addingB) }
        }
        if let g = db, sharedB {
            // b was shared by the batch: its gradient is the sum over batch entries.
            db = Reduce.sum(g.reshaped(Shape([g.count / b.count] + b.shape.dims)), axes: [0])
        }
        return (da, db)
    }
}
