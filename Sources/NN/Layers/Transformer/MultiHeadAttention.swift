import Autograd

/// Multi-head scaled dot-product attention (Vaswani et al., 2017, section 3.2.2):
/// MultiHead(Q, K, V) = Concat(head_1, ..., head_h)·W_O, head_i = softmax(Q·W_Qi (K·W_Ki)ᵀ / √d)·V·W_Vi.
///
/// The h heads' projections are one (C, C) linear layer each for queries, keys and values,
/// split into heads of width d = C / h afterwards, as in PyTorch and nanoGPT.
public final class MultiHeadAttention: Module {
    public var training = true
    public let heads: Int
    public let query: Linear
    public let key: Linear
    public let value: Linear
    public let output: Linear
    /// Dropout on the attention weights (nanoGPT's attn_dropout).
    public let attentionDropout: Dropout

    /// - Parameters:
    ///   - width: C, the model width; a multiple of `heads`.
    ///   - heads: h.
    ///   - dropout: probability of dropping an attention weight during training.
    public convenience init(width: Int, heads: Int, dropout: Float = 0) {
        self.init(
            heads: heads, query: Linear(width, width), key: Linear(width, width), value: Linear(width, width),
            output: Linear(width, width), dropout: dropout)
    }

    /// From given projections (the gradient check builds one from its own tensors).
    public init(heads: Int, query: Linear, key: Linear, value: Linear, output: Linear, dropout: Float = 0) {
        let width = query.weight.shape[0]
        precondition(heads >= 1 && width % heads == 0, "attention width \(width) is not a multiple of \(heads) heads")
        (self.heads, self.query, self.key, self.value, self.output) = (heads, query, key, value, output)
        attentionDropout = Dropout(dropout)
    }

    /// Attends from `x` to `context` (to `x` itself for self-attention).
    /// - Parameters:
    ///   - x: queries (B, Tq, C).
    ///   - context: keys and values (B, Tk, C); nil for self-attention.
    ///   - causal: position i attends to positions 0...i only (needs Tq == Tk).
    /// - Returns: (B, Tq, C).
    public func callAsFunction(_ x: Tensor, context: Tensor? = nil, causal: Bool = false) -> Tensor {
        let source = context ?? x
        let (b, tq, c, tk) = (x.shape[0], x.shape[1], x.shape[2], source.shape[1])
        let d = c / heads
        precondition(!causal || tq == tk, "causal attention needs as many keys as queries, got \(tk) and \(tq)")
        let (qx, kx, vx) = (query(x), key(source), value(source))  // (B, T, C) each
        // One op when it can: heads of one type and no dropout on the weights.
        if kx.data.dtype == qx.data.dtype && vx.data.dtype == qx.data.dtype
            && !(attentionDropout.training && attentionDropout.p > 0)
        {
            return ShapeTrace.note(self, output(scaledDotProductAttention(qx, kx, vx, heads: heads, causal: causal)))
        }
        // (B, T, C) -> (B, h, T, d)
        func splitHeads(_ t: Tensor, _ length: Int) -> Tensor {
            t.reshaped([b, length, heads, d]).permuted([0, 2, 1, 3])
        }
        let q = splitHeads(qx, tq), k = splitHeads(kx, tk), v = splitHeads(vx, tk)
        let scores = matmul(q, k, transB: true)  // (B, h, Tq, Tk)
        let scale = 1 / Float(d).squareRoot()
        let weights = causal ? scores.causalSoftmax(scale: scale) : (scores * scale).softmax()
        let attended = matmul(attentionDropout(weights), v)  // (B, h, Tq, d)
        let y = output(attended.permuted([0, 2, 1, 3]).reshaped([b, tq, c]))  // concat heads, then W_O
        return ShapeTrace.note(self, y)
    }
}
