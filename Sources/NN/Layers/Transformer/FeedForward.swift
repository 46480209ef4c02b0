import Autograd

/// The transformer's position-wise MLP: Linear(C, 4C), GELU, Linear(4C, C), dropout
/// (GPT-2's block; Vaswani et al. used ReLU).
public final class FeedForward: Layer {
    public var training = true
    public let up: Linear
    public let down: Linear
    public let dropout: Dropout

    /// - Parameters:
    ///   - width: C.
    ///   - expansion: the hidden width is expansion·C (4 in GPT-2 and ViT).
    ///   - dropout: on the output (nanoGPT's resid_dropout).
    public init(width: Int, expansion: Int = 4, dropout: Float = 0) {
        up = Linear(width, expansion * width)
        down = Linear(expansion * width, width)
        self.dropout = Dropout(dropout)
    }

    /// (..., C) to (..., C).
    public func callAsFunction(_ x: Tensor) -> Tensor { dropout(down(up(x).gelu())) }
}
