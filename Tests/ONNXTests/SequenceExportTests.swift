import Models
import NN
import ONNX
import Testing

/// The token models of the zoo (recurrent, GPT, encoder-decoder, CharMLP) against onnxruntime.
@Suite("ONNX export: sequence models against onnxruntime")
struct SequenceExportTests {
    typealias Check = ONNXRuntimeCheck

    /// Trains a token model briefly on random ids; `targets` gives each batch's labels.
    static func train(_ model: any Classifier, shape: [Int], vocabulary: Int, targets: (Int) -> NDArray) {
        let batches = (0..<3).map { s in
            (Check.tokens(shape, vocabulary: vocabulary, seed: 50 + UInt64(s)), targets(s))
        }
        Check.train(model, batches: batches)
    }

    @Test func charMLP() throws {
        let model = CharMLP(vocabulary: 7, context: 3, embeddingSize: 4, hiddenSize: 8)
        Self.train(model, shape: [4, 3], vocabulary: 7) { Check.labels(4, classes: 7, seed: UInt64($0)) }
        let ids = Check.tokens([3, 3], vocabulary: 7, seed: 97)
        let logits = withNoGrad { model.logits(ids).values }
        let error = try Check.check(
            "charmlp", model, input: .init(shape: [3], tokens: true), feeds: [("input_ids", ids)],
            expected: [("logits", logits)]
        ).error
        #expect(error < Check.tolerance)
    }

    @Test(arguments: [Recurrent.Kind.rnn, .lstm, .gru])
    func sequenceClassifier(kind: Recurrent.Kind) throws {
        let model = SequenceClassifier(
            kind, vocabulary: 9, embeddingSize: 4, hiddenSize: 5, layers: 2, classes: 3, forgetBias: 1)
        Self.train(model, shape: [4, 6], vocabulary: 9) { Check.labels(4, classes: 3, seed: UInt64($0)) }
        // A longer sequence than training's: the sequence axis is symbolic.
        let ids = Check.tokens([3, 7], vocabulary: 9, seed: 96)
        let logits = withNoGrad { model.logits(ids).values }
        let error = try Check.check(
            "sequence-\(kind)", model, input: .init(shape: [6], tokens: true), feeds: [("input_ids", ids)],
            expected: [("logits", logits)]
        ).error
        #expect(error < Check.tolerance)
    }

    @Test(arguments: [Recurrent.Kind.rnn, .lstm, .gru])
    func recurrentLanguageModel(kind: Recurrent.Kind) throws {
        let model = RecurrentLanguageModel(kind, vocabulary: 9, embeddingSize: 4, hiddenSize: 6, layers: 2)
        Self.train(model, shape: [4, 5], vocabulary: 9) { Check.tokens([20], vocabulary: 9, seed: 60 + UInt64($0)) }
        let ids = Check.tokens([3, 5], vocabulary: 9, seed: 95)
        let logits = withNoGrad { model.logits(ids).values }.reshaped([3, 5, 9])
        let error = try Check.check(
            "language-\(kind)", model, input: .init(shape: [5], tokens: true), feeds: [("input_ids", ids)],
            expected: [("logits", logits)]
        ).error
        #expect(error < Check.tolerance)
    }

    @Test(arguments: [
        (GPT.Positions.learned, false, 17), (.sinusoidal, true, 17), (.learned, true, 20), (.sinusoidal, false, 21),
    ])
    func gpt(positions: GPT.Positions, approximateGELU: Bool, opset: Int) throws {
        let model = GPT(
            vocabulary: 11, context: 8, width: 8, layers: 2, heads: 2, dropout: 0.1, positions: positions,
            approximateGELU: approximateGELU)
        Self.train(model, shape: [4, 8], vocabulary: 11) { Check.tokens([32], vocabulary: 11, seed: 70 + UInt64($0)) }
        // Shorter than the context: the position table and the causal mask are sliced at run time.
        let ids = Check.tokens([3, 6], vocabulary: 11, seed: 94)
        let logits = withNoGrad { model.logits(ids).values }.reshaped([3, 6, 11])
        let error = try Check.check(
            "gpt-\(positions)-\(approximateGELU ? "tanh" : "erf")", model, input: .init(shape: [8], tokens: true),
            opset: opset, feeds: [("input_ids", ids)], expected: [("logits", logits)]
        ).error
        #expect(error < Check.tolerance)
    }

    @Test func seq2SeqTransformer() throws {
        let model = Seq2SeqTransformer(
            vocabulary: 9, sourceLength: 5, targetLength: 4, width: 8, layers: 2, heads: 2, dropout: 0.1)
        Self.train(model, shape: [4, 9], vocabulary: 9) { Check.tokens([16], vocabulary: 9, seed: 80 + UInt64($0)) }
        let packed = Check.tokens([3, 9], vocabulary: 9, seed: 93)
        let logits = withNoGrad { model.logits(packed).values }.reshaped([3, 4, 9])
        let ids = packed.indices
        let source = NDArray(indices: (0..<3).flatMap { ids[($0 * 9)..<($0 * 9 + 5)] }, shape: [3, 5])
        let decoder = NDArray(indices: (0..<3).flatMap { ids[($0 * 9 + 5)..<($0 * 9 + 9)] }, shape: [3, 4])
        let error = try Check.check(
            "seq2seq", model, input: .init(shape: [9], tokens: true),
            feeds: [("source_ids", source), ("decoder_input_ids", decoder)], expected: [("logits", logits)]
        ).error
        #expect(error < Check.tolerance)
    }

    @Test func visionTransformer() throws {
        let model = VisionTransformer(
            imageSize: (1, 8, 8), patch: 4, width: 8, layers: 2, heads: 2, classes: 3, dropout: 0.1)
        #expect(
            try FeedForwardExportTests.classifier("vit", model, sample: [1, 8, 8], classes: 3) < Check.tolerance)
    }
}
