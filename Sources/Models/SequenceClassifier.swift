import NN

/// A recurrent sequence classifier: embed each token, run a stack of RNN, LSTM or GRU layers
/// over the sequence, and classify from the last layer's final hidden state.
public final class SequenceClassifier: Classifier {
    public var training = true
    public let embedding: Embedding
    public let recurrent: Recurrent
    public let head: Linear

    /// - Parameters:
    ///   - kind: rnn, lstm or gru.
    ///   - vocabulary: distinct tokens.
    ///   - embeddingSize: the width of the token embedding.
    ///   - hiddenSize: H, the width of each recurrent layer.
    ///   - layers: stacked recurrent layers.
    ///   - classes: outputs.
    ///   - forgetBias: bias offset of the LSTM's forget gate or the GRU's update gate (see the cells).
    public init(
        _ kind: Recurrent.Kind, vocabulary: Int, embeddingSize: Int, hiddenSize: Int, layers: Int = 1, classes: Int,
        forgetBias: Float = 0
    ) {
        embedding = Embedding(vocabulary, embeddingSize)
        recurrent = Recurrent(
            kind, inputSize: embeddingSize, hiddenSize: hiddenSize, layers: layers, forgetBias: forgetBias)
        head = Linear(hiddenSize, classes)
    }

    /// - Parameter inputs: int32 token ids (B, T).
    public func logits(_ inputs: NDArray) -> Tensor {
        let (_, final) = recurrent(tokens: inputs, embeddedBy: embedding)
        return head(final[final.count - 1][0])  // h_T of the last layer, (B, H)
    }
}
