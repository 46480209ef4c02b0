import NN

/// The encoder-decoder transformer (Vaswani et al., 2017) with pre-LN blocks: the encoder
/// reads the whole source, the decoder predicts the target one token at a time from the
/// tokens before it (causal self-attention) and the encoder's output (cross-attention).
///
/// Source and target share one vocabulary, one token embedding and one learned position table.
public final class Seq2SeqTransformer: Classifier {
    public var training = true
    public let sourceLength: Int
    public let targetLength: Int
    public let tokenEmbedding: Embedding
    public let positionEmbedding: Embedding
    public let encoder: [TransformerBlock]
    public let encoderNorm: LayerNorm
    public let decoder: [TransformerDecoderBlock]
    public let decoderNorm: LayerNorm
    public let head: Linear

    /// The token that starts every decoder input.
    public static let beginToken: Int32 = 0

    /// - Parameters:
    ///   - vocabulary: V, including the begin token 0.
    ///   - sourceLength: S.
    ///   - targetLength: T.
    ///   - width: C.
    ///   - layers: blocks in the encoder and in the decoder each.
    ///   - heads: attention heads per attention layer.
    ///   - dropout: on attention weights and residual branches.
    public init(
        vocabulary: Int, sourceLength: Int, targetLength: Int, width: Int, layers: Int, heads: Int, dropout: Float = 0
    ) {
        (self.sourceLength, self.targetLength) = (sourceLength, targetLength)
        tokenEmbedding = Embedding(vocabulary, width)
        positionEmbedding = Embedding(max(sourceLength, targetLength), width)
        encoder = (0..<layers).map { _ in TransformerBlock(width: width, heads: heads, dropout: dropout) }
        encoderNorm = LayerNorm(width)
        decoder = (0..<layers).map { _ in TransformerDecoderBlock(width: width, heads: heads, dropout: dropout) }
        decoderNorm = LayerNorm(width)
        head = Linear(width, vocabulary)
    }

    /// Token plus position embeddings of (N, L) ids: (N, L, C).
    private func embed(_ ids: NDArray) -> Tensor {
        let positions = NDArray(indices: (0..<Int32(ids.shape[1])).map { $0 }, shape: [ids.shape[1]])
        return tokenEmbedding(ids) + positionEmbedding(positions)
    }

    /// The encoder's output for source ids (N, S): (N, S, C).
    public func encode(_ source: NDArray) -> Tensor {
        var x = embed(source)
        for block in encoder { x = block(x) }
        return encoderNorm(x)
    }

    /// Next-token logits (N, L, V) at every position of the decoder input (N, L), L <= T.
    public func decode(_ decoderInput: NDArray, memory: Tensor) -> Tensor {
        var x = embed(decoderInput)
        for block in decoder { x = block(x, memory: memory) }
        return head(decoderNorm(x))
    }

    /// Teacher-forced logits.
    /// - Parameter inputs: int32 (N, S + T): the source, then the decoder input (the begin
    ///   token and the target shifted right), as `SequenceToSequenceDataset` packs them.
    /// - Returns: (N·T, V), row n·T + t predicting target token t.
    public func logits(_ inputs: NDArray) -> Tensor {
        let (source, decoderInput) = Self.split(inputs, at: sourceLength)
        let logits = decode(decoderInput, memory: encode(source))
        return logits.reshaped([inputs.shape[0] * targetLength, logits.shape[2]])
    }

    /// The likeliest target of each source, one token at a time, each fed back as the next input.
    /// - Parameter source: int32 (N, S).
    /// - Returns: int32 (N, T).
    public func greedyDecode(_ source: NDArray) -> NDArray {
        let n = source.shape[0]
        return withNoGrad {
            let memory = encode(source)
            var ids = [Int32](repeating: Self.beginToken, count: n)  // (N, t) row-major, grows by a column
            for t in 1...targetLength {
                let logits = decode(NDArray(indices: ids, shape: [n, t]), memory: memory).argmax(axis: 2)  // (N, t)
                var next: [Int32] = []
                for row in 0..<n { next += ids[(row * t)..<((row + 1) * t)] + [logits.int32Pointer[row * t + t - 1]] }
                ids = next
            }
            // Drop the begin token of every row.
            return NDArray(
                indices: (0..<n).flatMap { ids[($0 * (targetLength + 1) + 1)..<(($0 + 1) * (targetLength + 1))] },
                shape: [n, targetLength])
        }
    }

    /// Columns [0, at) and [at, end) of an int32 (N, L) array.
    static func split(_ ids: NDArray, at column: Int) -> (NDArray, NDArray) {
        let (n, l) = (ids.shape[0], ids.shape[1])
        let all = ids.indices
        let left = (0..<n).flatMap { all[($0 * l)..<($0 * l + column)] }
        let right = (0..<n).flatMap { all[($0 * l + column)..<(($0 + 1) * l)] }
        return (NDArray(indices: left, shape: [n, column]), NDArray(indices: right, shape: [n, l - column]))
    }
}
