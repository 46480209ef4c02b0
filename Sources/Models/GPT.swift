import Foundation
import NN

/// A GPT-style decoder-only transformer (Radford et al., 2018/2019; nanoGPT's layout) for
/// next-token prediction over a context of `context` tokens.
///
/// tokens -> token embedding + position encoding -> dropout -> L pre-LN blocks with causal
/// self-attention -> final LayerNorm -> linear head over the vocabulary.
public final class GPT: Classifier, TextGenerator {
    public enum Positions: String, Sendable, CaseIterable {
        /// A learned table of `context` vectors (GPT-2).
        case learned
        /// Fixed sines and cosines (Vaswani et al.), no parameters.
        case sinusoidal
    }

    public var training = true
    public let context: Int
    public let tokenEmbedding: Embedding
    public let positionEmbedding: Embedding?
    /// The fixed encoding when `positions` is sinusoidal: (context, C), a function of the sizes, so not saved.
    let sinusoid: NDArray?
    public let embeddingDropout: Dropout
    public let blocks: [TransformerBlock]
    public let finalNorm: LayerNorm
    public let head: Linear

    /// - Parameters:
    ///   - vocabulary: V.
    ///   - context: T, the longest sequence it reads.
    ///   - width: C.
    ///   - layers: L.
    ///   - heads: attention heads per layer.
    ///   - dropout: on embeddings, attention weights and residual branches.
    ///   - positions: learned or sinusoidal position encoding.
    ///   - approximateGELU: the MLPs use GELU's tanh approximation (GPT-2); false: the exact erf form (nanoGPT).
    public init(
        vocabulary: Int, context: Int, width: Int, layers: Int, heads: Int, dropout: Float = 0,
        positions: Positions = .learned, approximateGELU: Bool = false
    ) {
        self.context = context
        tokenEmbedding = Embedding(vocabulary, width)
        positionEmbedding = positions == .learned ? Embedding(context, width) : nil
        sinusoid = positions == .sinusoidal ? PositionalEncoding.sinusoidal(positions: context, width: width) : nil
        embeddingDropout = Dropout(dropout)
        blocks = (0..<layers).map { _ in
            TransformerBlock(width: width, heads: heads, dropout: dropout, approximateGELU: approximateGELU)
        }
        finalNorm = LayerNorm(width)
        head = Linear(width, vocabulary, bias: false)
        initialiseAsGPT2(layers: layers)
        if positions == .sinusoidal {
            // Fixed sines have unit amplitude; Vaswani et al. (section 3.4) bring the token
            // vectors to the same scale by multiplying them by √C. Drawn N(0, 1/C), they are
            // then unit-scale too, instead of drowning at GPT-2's 0.02.
            tokenEmbedding.weight.data = Init.normal(tokenEmbedding.weight.shape, std: 1 / Float(width).squareRoot())
        }
    }

    /// GPT-2's initialisation: weights N(0, 0.02), biases zero, and the projections that
    /// write into the residual stream (attention output, MLP down) scaled by 1/√(2L) so the
    /// stream's variance does not grow with depth.
    private func initialiseAsGPT2(layers: Int) {
        for (name, p) in namedParameters() where !name.contains("Norm") {
            let residual = name.hasSuffix("attention.output.weight") || name.hasSuffix("feedForward.down.weight")
            p.data =
                name.hasSuffix("bias")
                ? Init.zeros(p.shape)
                : Init.normal(p.shape, std: residual ? 0.02 / Float(2 * layers).squareRoot() : 0.02)
        }
    }

    /// Next-token logits at every position.
    /// - Parameter inputs: int32 token ids (N, T) with T <= context.
    /// - Returns: (N·T, V), row n·T + t predicting the token after inputs[n, t].
    public func logits(_ inputs: NDArray) -> Tensor {
        let (n, t) = (inputs.shape[0], inputs.shape[1])
        precondition(t <= context, "a sequence of \(t) tokens is longer than the model's context of \(context)")
        var tokens = tokenEmbedding(inputs)  // (N, T, C)
        if sinusoid != nil { tokens = tokens * Float(tokens.shape[2]).squareRoot() }
        let positionIDs = NDArray(indices: (0..<Int32(t)).map { $0 }, shape: [t])
        let positions =
            positionEmbedding.map { $0(positionIDs) }  // (T, C)
            ?? Tensor(Layout.slice(sinusoid!, axis: 0, start: 0, end: t))
        var x = embeddingDropout(tokens + positions)
        for block in blocks { x = block(x, causal: true) }
        let logits = head(finalNorm(x))  // (N, T, V)
        return logits.reshaped([n * t, logits.shape[2]])
    }
}

extension GPT {
    /// Continues `prompt` by `count` tokens, each drawn from the model's next-token distribution
    /// (autoregressive sampling as in nanoGPT's `generate`), reading at most the last `context` tokens.
    /// - Parameters:
    ///   - prompt: token ids to continue (at least one).
    ///   - count: tokens to generate.
    ///   - temperature: divides the logits; below 1 sharpens, above 1 flattens. 0 takes the most likely token.
    ///   - topK: sample only among the k most likely tokens (nil: all).
    ///   - rng: the random stream (same seed, same text).
    /// - Returns: the generated tokens, without the prompt.
    public func generate(
        prompt: [Int32], count: Int, temperature: Float = 1, topK: Int? = nil,
        rng: inout PhiloxRNG
    ) -> [Int32] {
        precondition(!prompt.isEmpty, "sampling needs a prompt of at least one token")
        let wasTraining = training
        eval()
        defer { train(wasTraining) }
        var tokens = prompt, generated: [Int32] = []
        for _ in 0..<count {
            let window = Array(tokens.suffix(context))
            let logits = withNoGrad { self.logits(NDArray(indices: window, shape: [1, window.count])).values.scalars }
            let last = Array(logits.suffix(logits.count / window.count))  // the final position's row
            let pick = NextTokenSampler.pick(last, temperature: temperature, topK: topK, rng: &rng)
            tokens.append(pick)
            generated.append(pick)
        }
        return generated
    }
}
