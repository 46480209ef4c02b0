import Autograd

/// A pre-LayerNorm decoder block of the encoder-decoder transformer (Vaswani et al., 2017,
/// figure 1, with the norms moved before each sub-layer): causal self-attention over the
/// output so far, cross-attention to the encoder's output, then the position-wise MLP,
/// each added back to the residual stream.
public final class TransformerDecoderBlock: Module {
    public var training = true
    public let selfAttentionNorm: LayerNorm
    public let selfAttention: MultiHeadAttention
    public let crossAttentionNorm: LayerNorm
    public let crossAttention: MultiHeadAttention
    public let feedForwardNorm: LayerNorm
    public let feedForward: FeedForward
    public let residualDropout: Dropout

    /// - Parameters:
    ///   - width: C.
    ///   - heads: attention heads (C must be a multiple).
    ///   - dropout: on attention weights and on each sub-layer's output.
    public init(width: Int, heads: Int, dropout: Float = 0) {
        selfAttentionNorm = LayerNorm(width)
        selfAttention = MultiHeadAttention(width: width, heads: heads, dropout: dropout)
        crossAttentionNorm = LayerNorm(width)
        crossAttention = MultiHeadAttention(width: width, heads: heads, dropout: dropout)
        feedForwardNorm = LayerNorm(width)
        feedForward = FeedForward(width: width, dropout: dropout)
        residualDropout = Dropout(dropout)
    }

    /// - Parameters:
    ///   - x: the decoder's stream (B, T, C).
    ///   - memory: the encoder's output (B, S, C).
    /// - Returns: (B, T, C).
    public func callAsFunction(_ x: Tensor, memory: Tensor) -> Tensor {
        var h = x + residualDropout(selfAttention(selfAttentionNorm(x), causal: true))
        h = h + residualDropout(crossAttention(crossAttentionNorm(h), context: memory))
        return ShapeTrace.note(self, h + feedForward(feedForwardNorm(h)))
    }
}
