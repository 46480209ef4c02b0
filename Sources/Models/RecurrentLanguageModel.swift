import NN

/// A recurrent character-level language model (as in Karpathy's char-rnn): embed each
/// token, run a stack of RNN, LSTM or GRU layers over the window, and predict the next token
/// from the hidden state at every position. Backpropagation runs through the whole window.
public final class RecurrentLanguageModel: Classifier {
    public var training = true
    public let embedding: Embedding
    public let recurrent: Recurrent
    public let head: Linear

    /// - Parameters:
    ///   - kind: rnn, lstm or gru.
    ///   - vocabulary: V.
    ///   - embeddingSize: the width of the token embedding.
    ///   - hiddenSize: H, the width of each recurrent layer.
    ///   - layers: stacked recurrent layers.
    ///   - forgetBias: bias offset of the LSTM's forget gate or the GRU's update gate (see the cells).
    public init(
        _ kind: Recurrent.Kind, vocabulary: Int, embeddingSize: Int, hiddenSize: Int, layers: Int = 1,
        forgetBias: Float = 0
    ) {
        embedding = Embedding(vocabulary, embeddingSize)
        recurrent = Recurrent(
            kind, inputSize: embeddingSize, hiddenSize: hiddenSize, layers: layers, forgetBias: forgetBias)
        head = Linear(hiddenSize, vocabulary)
    }

    /// - Parameter inputs: int32 token ids (N, T).
    /// - Returns: (N·T, V), row n·T + t predicting the token after inputs[n, t].
    public func logits(_ inputs: NDArray) -> Tensor {
        let (n, t) = (inputs.shape[0], inputs.shape[1])
        // The last layer's h_t at every step, (N, T, H).
        let (states, _) = recurrent(tokens: inputs, embeddedBy: embedding)
        return head(states).reshaped([n * t, head.weight.shape[0]])
    }
}
