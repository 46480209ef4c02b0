import Foundation
import TensorCore

/// Draws the next token from a language model's logits: the one step every `TextGenerator` shares.
public enum NextTokenSampler {
    /// The token drawn from `logits`. One uniform is taken from `rng` per call, even at
    /// temperature 0, so the n-th token always reads the same position of the stream.
    /// - Parameters:
    ///   - logits: one score per token of the vocabulary.
    ///   - temperature: divides the logits; below 1 sharpens, above 1 flattens. 0 takes the most likely token.
    ///   - topK: sample only among the k most likely tokens (nil: all).
    ///   - rng: the random stream.
    public static func pick(_ logits: [Float], temperature: Float, topK: Int?, rng: inout PhiloxRNG) -> Int32 {
        precondition(!logits.isEmpty, "sampling needs at least one token's logit")
        var order = Array(logits.indices).sorted { logits[$0] > logits[$1] }
        if temperature == 0 { order = [order[0]] } else if let topK { order = Array(order.prefix(max(1, topK))) }
        let t = max(temperature, 1e-6), top = logits[order[0]]
        let weights = order.map { Foundation.exp(Double((logits[$0] - top) / t)) }
        var draw: Float = 0
        rng.fillUniform(&draw, 1)
        var target = Double(draw) * weights.reduce(0, +), pick = order.last!
        for (i, w) in zip(order, weights) {
            target -= w
            if target < 0 { pick = i; break }
        }
        return Int32(pick)
    }
}
