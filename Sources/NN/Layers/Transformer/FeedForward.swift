import Autograd

/// The transformer's position-wise MLP: Linear(C, 4C), GELU, Linear(4C, C), dropout
/// (GPT-2's block; Vaswani et al. used ReLU).
public final class FeedForward: Layer {
    public var training = true
    public let up: Linear
    public let down: Linear
    public let dropout: Dropout
    /// GPT-2's tanh approximation of GELU instead of the exact erf form.
    public let approximateGELU: Bool

    /// - Parameters:
    ///   - width: C.
    ///   - expansion: the hidden width is expansion·C (4 in GPT-2 and ViT).
    ///   - dropout: on the output (nanoGPT's resid_dropout).
    ///   - approximateGELU: use GELU's tanh approximation (GPT-2, llm.c).
    public init(width: Int, expansion: Int = 4, dropout: Float = 0, approximateGELU: Bool = false) {
        up = Linear(width, expansion * width)
        down = Linear(expansion * width, width)
        self.dropout = Dropout(dropout)
        self.approximateGELU = approximateGELU
    }

    /// (..., C) to (..., C).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        ShapeTrace.note(self, dropout(down(up(x).gelu(approximate: approximateGELU))))
    }
}
