import NN

extension GraphBuilder {
    /// Multi-head attention decomposed into MatMul and Softmax: the projections, the heads split
    /// out to (B, h, T, d), softmax(Q·Kᵀ/√d + mask)·V, the heads joined and projected.
    /// - Parameters:
    ///   - layer: the attention layer.
    ///   - x: queries (B, Tq, C).
    ///   - context: keys and values (B, Tk, C); nil for self-attention.
    ///   - causalMask: the causal mask table (L, L) with 0 on and below the diagonal and -∞ above, or nil.
    ///   - scope: the layer's dotted name.
    public func attention(
        _ layer: MultiHeadAttention, _ x: ONNXValue, context: ONNXValue? = nil, causalMask: ONNXValue? = nil,
        scope: String
    ) -> ONNXValue {
        let source = context ?? x
        let (b, tq, tk) = (x.shape[0], x.shape[1], source.shape[1])
        let c = layer.query.weight.shape[0], h = layer.heads, d = c / h
        func heads(_ v: ONNXValue, _ t: ONNXDim, _ perm: [Int]) -> ONNXValue {
            let split = reshape(v, [0, 0, h, d], scope: scope, shape: [b, t, .fixed(h), .fixed(d)])
            return transpose(split, perm, scope: scope)
        }
        let q = heads(linear(layer.query, x, scope: "\(scope).query"), tq, [0, 2, 1, 3])  // (B, h, Tq, d)
        let k = heads(linear(layer.key, source, scope: "\(scope).key"), tk, [0, 2, 3, 1])  // (B, h, d, Tk)
        let v = heads(linear(layer.value, source, scope: "\(scope).value"), tk, [0, 2, 1, 3])  // (B, h, Tk, d)
        var scores = scale(
            node("MatMul", [q, k], scope: scope, shape: [b, .fixed(h), tq, tk]), by: 1 / Float(d).squareRoot(),
            scope: scope)
        if let causalMask {
            let t = size(of: x, axis: 1, scope: scope)
            let mask = node(
                "Slice", [causalMask, int64s([0, 0]), concat([t, t], axis: 0, scope: scope), int64s([0, 1])],
                scope: scope, shape: [tq, tq])
            scores = add(scores, mask, scope: scope)
        }
        let weights = unary("Softmax", scores, [.int("axis", -1)], scope: scope)
        let attended = node("MatMul", [weights, v], scope: scope, shape: [b, .fixed(h), tq, .fixed(d)])
        let joined = reshape(
            transpose(attended, [0, 2, 1, 3], scope: scope), [0, 0, c], scope: scope, shape: [b, tq, .fixed(c)])
        return linear(layer.output, joined, scope: "\(scope).output")
    }

    /// The causal mask for sequences of up to `length` positions, (length, length): 0 where
    /// position i may attend to j (j <= i), -∞ where it may not.
    public func causalMask(length: Int) -> ONNXValue {
        let table = (0..<length).flatMap { i in (0..<length).map { j in j <= i ? Float(0) : -Float.infinity } }
        return constant(table, shape: [length, length], name: "causalMask")
    }

    /// The position-wise MLP: up, GELU (exact or tanh as the layer has it), down.
    public func feedForward(_ layer: FeedForward, _ x: ONNXValue, scope: String) -> ONNXValue {
        let up = gelu(linear(layer.up, x, scope: "\(scope).up"), approximate: layer.approximateGELU, scope: scope)
        return linear(layer.down, up, scope: "\(scope).down")
    }

    /// A pre-LN block: x + Attention(LN(x)), then h + MLP(LN(h)).
    public func transformerBlock(_ block: TransformerBlock, _ x: ONNXValue, causalMask: ONNXValue?, scope: String)
        -> ONNXValue
    {
        let normed = layerNorm(block.attentionNorm, x, scope: "\(scope).attentionNorm")
        let attended = attention(block.attention, normed, causalMask: causalMask, scope: "\(scope).attention")
        let h = add(x, attended, scope: scope)
        let mlp = feedForward(
            block.feedForward, layerNorm(block.feedForwardNorm, h, scope: "\(scope).feedForwardNorm"),
            scope: "\(scope).feedForward")
        return add(h, mlp, scope: scope)
    }

    /// A decoder block: causal self-attention, cross-attention to `memory`, then the MLP, each residual.
    public func decoderBlock(
        _ block: TransformerDecoderBlock, _ x: ONNXValue, memory: ONNXValue, causalMask: ONNXValue, scope: String
    ) -> ONNXValue {
        let selfNormed = layerNorm(block.selfAttentionNorm, x, scope: "\(scope).selfAttentionNorm")
        var h = add(
            x, attention(block.selfAttention, selfNormed, causalMask: causalMask, scope: "\(scope).selfAttention"),
            scope: scope)
        let crossNormed = layerNorm(block.crossAttentionNorm, h, scope: "\(scope).crossAttentionNorm")
        h = add(
            h, attention(block.crossAttention, crossNormed, context: memory, scope: "\(scope).crossAttention"),
            scope: scope)
        let mlp = feedForward(
            block.feedForward, layerNorm(block.feedForwardNorm, h, scope: "\(scope).feedForwardNorm"),
            scope: "\(scope).feedForward")
        return add(h, mlp, scope: scope)
    }
}
