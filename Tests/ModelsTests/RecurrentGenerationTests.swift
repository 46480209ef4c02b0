import Models
import NN
import Testing

/// Text generation by the recurrent language models, which carry their state from token to token.
@Suite struct RecurrentGenerationTests {
    /// A model with larger weights than the initialisation's, so its next-token distributions are far from
    /// uniform and a wrong state would change the tokens drawn.
    static func model(_ kind: Recurrent.Kind, vocabulary: Int) -> RecurrentLanguageModel {
        Init.seed(5)
        let model = RecurrentLanguageModel(kind, vocabulary: vocabulary, embeddingSize: 6, hiddenSize: 8, layers: 2)
        for (_, p) in model.namedParameters() {
            for i in 0..<p.data.count { p.data.ptr[i] *= 3 }
        }
        return model
    }

    /// The tokens that re-running the whole text through the model after every token gives,
    /// drawn with the same sampler and stream.
    static func rerun(
        _ model: RecurrentLanguageModel, prompt: [Int32], count: Int, temperature: Float, topK: Int?, seed: UInt64
    ) -> [Int32] {
        var rng = PhiloxRNG(seed: seed), tokens = prompt, generated: [Int32] = []
        let vocabulary = model.head.weight.shape[0]
        model.eval()
        defer { model.train() }
        for _ in 0..<count {
            let logits = withNoGrad { model.logits(NDArray(indices: tokens, shape: [1, tokens.count])).values.scalars }
            let pick = NextTokenSampler.pick(
                Array(logits.suffix(vocabulary)), temperature: temperature, topK: topK, rng: &rng)
            tokens.append(pick)
            generated.append(pick)
        }
        return generated
    }

    /// Carrying the state gives the tokens of re-running the prefix, greedy and sampled, for
    /// every kind of cell; a prompt longer than the vocabulary takes the projected-table path.
    @Test(arguments: [Recurrent.Kind.rnn, .lstm, .gru])
    func carriedStateEqualsRerunningThePrefix(_ kind: Recurrent.Kind) {
        let model = Self.model(kind, vocabulary: 7)
        let prompt: [Int32] = [1, 4, 2, 6, 3, 0, 5, 5, 2, 1]
        for (temperature, topK) in [(Float(0), nil), (1, nil), (0.7, 3)] as [(Float, Int?)] {
            var rng = PhiloxRNG(seed: 11)
            let generated = model.generate(prompt: prompt, count: 40, temperature: temperature, topK: topK, rng: &rng)
            let expected = Self.rerun(model, prompt: prompt, count: 40, temperature: temperature, topK: topK, seed: 11)
            #expect(generated == expected, "\(kind) at temperature \(temperature), top-k \(String(describing: topK))")
            #expect(generated.allSatisfy { $0 >= 0 && $0 < 7 })
        }
        #expect(model.training, "generate restores training mode")
    }

    /// The same seed gives the same text; other seeds other texts; a short prompt works too.
    @Test func seededAndDeterministic() {
        let model = Self.model(.lstm, vocabulary: 9)
        func text(seed: UInt64) -> [Int32] {
            var rng = PhiloxRNG(seed: seed)
            return model.generate(prompt: [3], count: 50, temperature: 1, topK: nil, rng: &rng)
        }
        #expect(text(seed: 1) == text(seed: 1))
        #expect(text(seed: 1) != text(seed: 2))
        #expect(Set(text(seed: 1)).count > 1, "sampling at temperature 1 draws more than one token")
        var rng = PhiloxRNG(seed: 1)
        #expect(model.generate(prompt: [3], count: 1, temperature: 0, topK: nil, rng: &rng).count == 1)
    }

    /// The recurrent language models are text generators, as `tandem sample` and `tandem predict` need.
    @Test func isATextGenerator() {
        let model: any TrainableModel = Self.model(.gru, vocabulary: 5)
        #expect(model is any TextGenerator)
    }
}
