import TensorCore

/// op(a) · op(b) over the last two axes; b may be 2-D and shared by a's batch.
/// - Parameters:
///   - a: (..., M, K), or (..., K, M) with `transA`.
///   - b: (K, N), or (N, K) with `transB`; or batched like a.
///   - transA: use a with its last two axes transposed.
///   - transB: use b with its last two axes transposed.
/// - Returns: (..., M, N).
public func matmul(_ a: Tensor, _ b: Tensor, transA: Bool = false, transB: Bool = false) -> Tensor {
    let (a, roundA) = Autocast.roundedInput(a), (b, roundB) = Autocast.roundedInput(b)
    let (ad, bd) = (a.data, b.data)
    // The GEMM reads 16-bit operands, and a 16-bit gradient, directly (widening while it packs
    // them), and writes the result and the input gradients in the types they are stored in.
    let out = MatMul.forward(
        ad, bd, transA: transA, transB: transB, output: Autocast.gemmOutputType(inputs: [a, b]),
        roundA: roundA, roundB: roundB)
    return Tensor.record("matmul", out, inputs: [a, b], halfGradient: true) { dy in
        let (da, db) = MatMul.backward(
            dy, ad, bd, transA: transA, transB: transB,
            needA: a.requiresGrad, needB: b.requiresGrad,
            typeA: a.gradientType, typeB: b.gradientType, roundA: roundA, roundB: roundB,
            addingA: a.gradientBuffer, addingB: b.gradientBuffer)
        return [da, db]
    }
}

/// x · Wᵀ + b, the fully connected layer with PyTorch's weight layout.
///
/// With a bias it is one op (`MatMul.linear`: the GEMM adds the bias to each tile), so the
/// bias add costs no pass and, under autocast, the product is rounded to 16 bits once.
/// - Parameters:
///   - x: (..., in).
///   - weight: (out, in).
///   - bias: (out) or nil.
/// - Returns: (..., out).
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
    guard let bias else { return matmul(x, weight, transB: true) }
    let (x, roundX) = Autocast.roundedInput(x), (weight, roundWeight) = Autocast.roundedInput(weight)
    let features = x.shape[-1], outFeatures = weight.shape[0]
    // (..., in) -> (rows, in): every leading axis is a row of one GEMM.
    let xd = x.data.reshaped([x.count / features, features]), wd = weight.data
    let out = MatMul.linear(
        xd, wd, bias: bias.data, output: Autocast.gemmOutputType(inputs: [x, weight, bias]),
        roundX: roundX, roundWeight: roundWeight)
    let outShape = Shape(Array(x.shape.dims.dropLast()) + [outFeatures])
    return Tensor.record("linear", out.reshaped(outShape), inputs: [x, weight, bias], halfGradient: true) { dy in
        let dy2 = dy.reshaped([xd.shape[0], outFeatures])
        let (dx, dw) = MatMul.backward(
            dy2, xd, wd, transA: false, transB: true,
            needA: x.requiresGrad, needB: weight.requiresGrad,
            typeA: x.gradientType, typeB: weight.gradientType, roundA: roundX, roundB: roundWeight,
            addingA: x.gradientBuffer?.reshaped(xd.shape), addingB: weight.gradientBuffer)
        // db (out): the column sums of dy.
        let db = bias.requiresGrad ? Reduce.columnSums(dy2) : nil
        return [dx?.reshaped(x.shape), dw, db]
    }
}
