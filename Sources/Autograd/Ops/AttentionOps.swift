import TensorCore

/// Multi-head scaled dot-product attention as one op, on heads side by side (see
/// `Attention`): softmax(scale · Q Kᵀ) V per head, with the causal mask when asked.
///
/// Against the composite (split heads, matmul, softmax, matmul, merge heads) it saves the
/// head copies and keeps each head's work on one thread while it is in cache. Under autocast
/// the projections are 16-bit: the kernel widens each head as it reads it, and stores the
/// output, the weights and the gradients in 16 bits.
/// - Parameters:
///   - q: queries (B, Tq, h·d).
///   - k: keys (B, Tk, h·d), of q's type.
///   - v: values (B, Tk, h·d), of q's type.
///   - heads: h.
///   - causal: query i attends to keys 0...i only (needs Tq == Tk).
///   - scale: applied to the scores inside the softmax; nil for 1/√d.
/// - Returns: (B, Tq, h·d), the heads' outputs side by side.
public func scaledDotProductAttention(
    _ q: Tensor, _ k: Tensor, _ v: Tensor, heads: Int, causal: Bool,
    scale: Float? = nil
) -> Tensor {
    let (qd, kd, vd) = (q.data, k.data, v.data)
    let scale = scale ?? 1 / Float(q.shape[-1] / heads).squareRoot()
    let (out, weights) = Attention.forward(q: qd, k: kd, v: vd, heads: heads, causal: causal, scale: scale)
    return Tensor.record("attention", out, inputs: [q, k, v], halfGradient: true) { dy in
        let (dq, dk, dv) = Attention.backward(
            dy, q: qd, k: kd, v: vd, weights: weights, heads: heads, causal: causal, scale: scale,
            types: (q.gradientType, k.gradientType, v.gradientType))
        return [dq, dk, dv]
    }
}
