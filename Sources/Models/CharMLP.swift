import NN

/// The neural probabilistic language model of Bengio et al. (2003) over characters: embed
/// each of the `context` previous characters, concatenate, one tanh hidden layer, then
/// logits over the vocabulary for the next character.
public final class CharMLP: Classifier {
    public var training = true
    public let embedding: Embedding
    public let hidden: Linear
    public let output: Linear

    /// - Parameters:
    ///   - vocabulary: number of distinct characters.
    ///   - context: characters of context.
    ///   - embeddingSize: width of each character's vector.
    ///   - hiddenSize: width of the tanh layer.
    public init(vocabulary: Int, context: Int, embeddingSize: Int, hiddenSize: Int) {
        embedding = Embedding(vocabulary, embeddingSize)
        hidden = Linear(context * embeddingSize, hiddenSize)
        output = Linear(hiddenSize, vocabulary)
    }

    /// - Parameter inputs: int32 ids (N, context).
    public func logits(_ inputs: NDArray) -> Tensor {
        let e = embedding(inputs).flattened(from: 1)  // (N, context · embeddingSize)
        return output(hidden(e).tanh())
    }
}
