import TensorCore

/// op(a) · op(b) over the last two axes; b may be 2-D and shared by a's batch.
/// - Parameters:
///   - a: (..., M, K), or (..., K, M) with `transA`.
///   - b: (K, N), or (N, K) with `transB`; or batched like a.
/// - Returns: (..., M, N).
public func matmul(_ a: Tensor, _ b: Tensor, transA: Bool = false, transB: Bool = false) -> Tensor {
    let (a, b) = (Autocast.input(a), Autocast.input(b))
    let (ad, bd) = (a.data, b.data)
    // The GEMM reads 16-bit operands directly (widening while it packs them).
    return Tensor.record("matmul", MatMul.forward(ad, bd, transA: transA, transB: transB), inputs: [a, b]) { dy in
        let (da, db) = MatMul.backward(dy, ad, bd, transA: transA, transB: transB,
                                       needA: a.requiresGrad, needB: b.requiresGrad)
        return [da, db]
    }
}

/// x · Wᵀ + b, the fully connected layer with PyTorch's weight layout.
/// - Parameters:
///   - x: (..., in).
///   - weight: (out, in).
///   - bias: (out) or nil.
/// - Returns: (..., out).
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
    let y = matmul(x, weight, transB: true)
    return bias.map { y + $0 } ?? y
}
