import TensorCore

/// A model that continues a prompt token by token (`tandem sample`).
public protocol TextGenerator: TrainableModel {
    /// Samples `count` tokens after `prompt`.
    /// - Parameters:
    ///   - prompt: token ids to continue (at least one).
    ///   - count: tokens to generate.
    ///   - temperature: divides the logits; 0 takes the most likely token.
    ///   - topK: sample only among the k most likely tokens (nil: all).
    ///   - rng: the random stream (same seed, same text).
    /// - Returns: the generated tokens, without the prompt.
    func generate(prompt: [Int32], count: Int, temperature: Float, topK: Int?, rng: inout PhiloxRNG) -> [Int32]
}
