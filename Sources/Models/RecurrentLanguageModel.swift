import NN

/// A recurrent character-level language model (as in Karpathy's char-rnn): embed each
/// token, run a stack of RNN, LSTM or GRU layers over the window, and predict the next token
/// from the hidden state at every position. Backpropagation runs through the whole window.
public final class RecurrentLanguageModel: Classifier, TextGenerator {
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

extension RecurrentLanguageModel {
    /// Continues `prompt` by `count` tokens, each drawn from the next-token distribution. The
    /// prompt runs through the layers once; each new token then takes one step from the carried
    /// state, so a token costs one step however long the text grows (and nothing is cut off,
    /// unlike a window).
    /// - Parameters:
    ///   - prompt: token ids to continue (at least one).
    ///   - count: tokens to generate.
    ///   - temperature: divides the logits; below 1 sharpens, above 1 flattens. 0 takes the most likely token.
    ///   - topK: sample only among the k most likely tokens (nil: all).
    ///   - rng: the random stream (same seed, same text).
    /// - Returns: the generated tokens, without the prompt.
    public func generate(
        prompt: [Int32], count: Int, temperature: Float = 1, topK: Int? = nil, rng: inout PhiloxRNG
    ) -> [Int32] {
        precondition(!prompt.isEmpty, "sampling needs a prompt of at least one token")
        let wasTraining = training
        eval()
        defer { train(wasTraining) }
        let hidden = head.weight.shape[1]
        return withNoGrad {
            var (outputs, state) = recurrent(
                tokens: NDArray(indices: prompt, shape: [1, prompt.count]), embeddedBy: embedding)
            var last = outputs.slice(axis: 1, start: prompt.count - 1, end: prompt.count).reshaped([1, hidden])
            var generated: [Int32] = []
            for i in 0..<count {
                let logits = head(last).values.scalars
                let pick = NextTokenSampler.pick(logits, temperature: temperature, topK: topK, rng: &rng)
                generated.append(pick)
                guard i < count - 1 else { break }
                (outputs, state) = recurrent(
                    tokens: NDArray(indices: [pick], shape: [1, 1]), embeddedBy: embedding, initial: state)
                last = outputs.reshaped([1, hidden])
            }
            return generated
        }
    }
}
