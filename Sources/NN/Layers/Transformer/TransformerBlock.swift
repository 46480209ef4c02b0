import Autograd

/// A pre-LayerNorm transformer block (GPT-2, ViT): x + Attention(LN(x)), then x + MLP(LN(x)).
///
/// Normalising before each sub-layer, not after as the original transformer did, keeps the
/// residual path an identity, which is why deep stacks train without learning-rate warm-up tricks.
public final class TransformerBlock: Module {
    public var training = true
    public let attentionNorm: LayerNorm
    public let attention: MultiHeadAttention
    public let attentionDropout: Dropout
    public let feedForwardNorm: LayerNorm
    public let feedForward: FeedForward

    /// - Parameters:
    ///   - width: C.
    ///   - heads: attention heads (C must be a multiple).
    ///   - dropout: on attention weights and on each sub-layer's output.
    ///   - approximateGELU: the MLP uses GELU's tanh approximation.
    public init(width: Int, heads: Int, dropout: Float = 0, approximateGELU: Bool = false) {
        attentionNorm = LayerNorm(width)
        attention = MultiHeadAttention(width: width, heads: heads, dropout: dropout)
        attentionDropout = Dropout(dropout)
        feedForwardNorm = LayerNorm(width)
        feedForward = FeedForward(width: width, dropout: dropout, approximateGELU: approximateGELU)
    }

    /// - Parameters:
    ///   - x: (B, T, C).
    ///   - causal: mask attention to later positions (decoders).
    /// - Returns: (B, T, C).
    public func callAsFunction(_ x: Tensor, causal: Bool = false) -> Tensor {
        let h = x + attentionDropout(attention(attentionNorm(x), causal: causal))
        return ShapeTrace.note(self, h + feedForward(feedForwardNorm(h)))
    }
}
