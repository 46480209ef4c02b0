import Datasets
import Models
import NN
import Optim
import Testing

/// RNN, LSTM and GRU sequence classifiers learn the memory task at a short gap.
@Suite("Recurrent sequence classifiers")
struct SequenceModelTests {
    @Test(arguments: [Recurrent.Kind.rnn, .lstm, .gru])
    func learnsTheFirstToken(kind: Recurrent.Kind) {
        let data = SyntheticDataset.memoryTask(count: 256, length: 8, classes: 3, vocabulary: 10, seed: 2)
        let test = SyntheticDataset.memoryTask(count: 90, length: 8, classes: 3, vocabulary: 10, seed: 9)
        Init.seed(1)
        let model = SequenceClassifier(
            kind, vocabulary: 10, embeddingSize: 8, hiddenSize: 16, classes: 3,
            forgetBias: kind == .lstm ? 1 : 0)
        trainWithAdam(model, learningRate: 0.02, steps: 150, cycling(data, samples: 256, size: 32))
        let correct = correctPredictions(model, on: test.batch(ArraySlice(0..<90)))
        #expect(correct >= 80, "\(kind): \(correct)/90 held-out sequences right")
    }

    @Test func forgetBiasShiftsOnlyTheForgetGate() {
        Init.seed(3)
        let plain = LSTMCell(4, 5)
        Init.seed(3)
        let biased = LSTMCell(4, 5, forgetBias: 2)
        let diff = zip(biased.biasIH.scalars, plain.biasIH.scalars).map { $0 - $1 }
        #expect(
            diff == [Float](repeating: 0, count: 5) + [Float](repeating: 2, count: 5) + [Float](repeating: 0, count: 10)
        )
        // The GRU's update gate z is its second block of H.
        Init.seed(3)
        let gru = GRUCell(4, 5)
        Init.seed(3)
        let keeping = GRUCell(4, 5, updateBias: 1.5)
        #expect(
            zip(keeping.biasIH.scalars, gru.biasIH.scalars).map { $0 - $1 }
                == [Float](repeating: 0, count: 5) + [Float](repeating: 1.5, count: 5) + [Float](repeating: 0, count: 5)
        )
    }

    /// As character language models, each kind learns a repeating verse and reads only the past.
    @Test(arguments: [Recurrent.Kind.rnn, .lstm, .gru])
    func languageModelLearnsARepeatingText(kind: Recurrent.Kind) {
        let verse = Array(String(repeating: "to be or not to be. ", count: 40).utf8)
        let corpus = CharacterCorpus(verse)
        let text = corpus.sequenceDataset(context: 12, range: 0..<verse.count)
        Init.seed(5)
        let model = RecurrentLanguageModel(kind, vocabulary: corpus.vocabulary.count, embeddingSize: 8, hiddenSize: 32)
        let loss = trainWithAdam(model, learningRate: 0.01, steps: 120) { step in
            text.batch(ArraySlice((0..<16).map { (step * 37 + $0 * 41) % text.count }))
        }.last
        // Uniform guessing is log(8) ≈ 2.1; after the first few characters the verse is determined.
        #expect(loss < 0.5, "\(kind): training loss \(loss)")
        let a = text.batch([0]).inputs,
            changed = NDArray(indices: a.indices.prefix(6) + [Int32](repeating: 0, count: 6), shape: [1, 12])
        let la = withNoGrad { model.logits(a).values.scalars }, lb = withNoGrad { model.logits(changed).values.scalars }
        let v = corpus.vocabulary.count
        #expect(
            Array(la[0..<(6 * v)]) == Array(lb[0..<(6 * v)]) && la != lb, "\(kind): positions 0-5 read only tokens 0-5")
    }
}
