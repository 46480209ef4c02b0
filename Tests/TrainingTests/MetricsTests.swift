import Foundation
import Collective
import TensorCore
import Testing
@testable import Training

/// Metrics against values worked out by hand, on one rank (the reduction is a sum; the MPI
/// end-to-end test covers several ranks).
@Suite("Metrics and early stopping")
struct MetricsTests {
    @Test func confusionPrecisionRecallF1TopK() {
        // 5 samples, 3 classes. Predictions (argmax): 0, 1, 1, 2, 0; truths: 0, 1, 2, 2, 1.
        let logits = NDArray([3, 1, 0, 0, 2, 1, 0, 3, 2, 1, 0, 4, 2, 1, 0], shape: [5, 3])
        let targets = NDArray(indices: [0, 1, 2, 2, 1], shape: [5])
        var acc = ClassificationAccumulator(classes: 3, topK: 2)
        acc.add(logits: logits, targets: targets, loss: 0.5, key: 0)
        let m = acc.reduce(over: SingleProcessCommunicator())
        #expect(m.confusion == [[1, 0, 0], [1, 1, 0], [0, 1, 1]])
        #expect(m.accuracy == 0.6 && m.loss == 0.5 && m.samples == 5)
        // Precision: class 0 1/2, class 1 1/2, class 2 1/1. Recall: 1/1, 1/2, 1/2.
        #expect(m.precision == [0.5, 0.5, 1] && m.recall == [1, 0.5, 0.5])
        #expect(Swift.abs(m.f1[0] - 2.0 / 3) < 1e-12 && m.f1[1] == 0.5 && Swift.abs(m.f1[2] - 2.0 / 3) < 1e-12)
        #expect(Swift.abs(m.f1Macro - (2.0 / 3 + 0.5 + 2.0 / 3) / 3) < 1e-12)
        // Top-2: the truth is among the two largest logits for samples 0, 1, 2, 3; sample 4 ranks class 1 second.
        #expect(m.topKAccuracy == 1.0)
        #expect(Swift.abs(m.perplexity - Foundation.exp(0.5)) < 1e-12)
    }

    @Test func rocAUCByHand() {
        // Positives score 0.9, 0.4; negatives 0.5, 0.1. Pairs won: (0.9 > 0.5, 0.9 > 0.1, 0.4 > 0.1) = 3 of 4.
        #expect(ROCAUC.binary(scores: [0.9, 0.5, 0.4, 0.1], positive: [true, false, true, false]) == 0.75)
        // A tie counts half: positive 0.5 against negative 0.5.
        #expect(ROCAUC.binary(scores: [0.5, 0.5, 0.9], positive: [true, false, true]) == 0.75)
        #expect(ROCAUC.binary(scores: [0.1, 0.2], positive: [true, true]) == nil)
        // Macro one-vs-rest over 3 classes with perfectly ranked scores is 1.
        let p: [Float] = [0.8, 0.1, 0.1, 0.1, 0.7, 0.2, 0.2, 0.2, 0.6, 0.6, 0.3, 0.1]
        #expect(ROCAUC.macroOneVsRest(probabilities: p, labels: [0, 1, 2, 0], classes: 3) == 1)
    }

    @Test func regressionErrors() {
        var r = RegressionAccumulator()
        r.add(predictions: [1, 2, 3], targets: [1, 0, 4])
        let s = r.reduce(over: SingleProcessCommunicator())
        #expect(s.mae == 1 && Swift.abs(s.mse - 5.0 / 3) < 1e-12 && Swift.abs(s.rmse - (5.0 / 3).squareRoot()) < 1e-12)
        // R² = 1 - SSE / SST: targets 1, 0, 4 have mean 5/3 and SST 26/3; SSE is 5.
        #expect(Swift.abs(s.r2 - (1 - 5 / (26.0 / 3))) < 1e-12)
    }

    /// Two outputs, in two chunks added out of order: R² is scikit-learn's uniform average over
    /// the outputs, and the loss is weighted by each chunk's samples.
    @Test func regressionOverOutputsAndChunks() {
        let predictions: [Float] = [1, 10, 2, 20, 4, 35], targets: [Float] = [1, 12, 3, 18, 3, 30]
        var r = RegressionAccumulator(outputs: 2)
        r.add(predictions: Array(predictions[4...]), targets: Array(targets[4...]), loss: 4, key: 1)
        r.add(predictions: Array(predictions[..<4]), targets: Array(targets[..<4]), loss: 1, key: 0)
        let s = r.reduce(over: SingleProcessCommunicator())
        func r2(_ p: [Double], _ t: [Double]) -> Double {
            let mean = t.reduce(0, +) / Double(t.count)
            return 1 - zip(p, t).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
                / t.map { ($0 - mean) * ($0 - mean) }.reduce(0, +)
        }
        let first = r2([1, 2, 4], [1, 3, 3]), second = r2([10, 20, 35], [12, 18, 30])
        #expect(Swift.abs(s.r2 - (first + second) / 2) < 1e-12)
        #expect(Swift.abs(s.mae - 11.0 / 6) < 1e-12 && Swift.abs(s.mse - 35.0 / 6) < 1e-12)
        #expect(Swift.abs(s.loss - (1 * 2 + 4 * 1) / 3.0) < 1e-12)
    }

    @Test func earlyStoppingWithPatienceAndMinDelta() {
        var s = EarlyStopping(minimize: true, patience: 2, minDelta: 0.01)
        // 0.995 is not better by more than min_delta (1 bad); 0.9 resets; then two without improvement.
        let decisions = [1.0, 0.995, 0.9, 0.9, 0.95].map { s.shouldStop(after: $0) }
        #expect(decisions == [false, false, false, false, true])
        var up = EarlyStopping(minimize: false, patience: 1)
        let first = up.shouldStop(after: 0.5), second = up.shouldStop(after: 0.5)
        #expect(!first && second)
    }

    /// The classifier-based Inception Score: 1 when every image is a uniform guess, the number
    /// of classes when each is one class with certainty and the classes are balanced.
    @Test func classifierScoreBounds() {
        let comm = SingleProcessCommunicator()
        #expect(
            abs(ClassifierScore.score(probabilities: [Double](repeating: 0.25, count: 40), classes: 4, over: comm) - 1)
                < 1e-12)
        let oneHot = (0..<40).flatMap { i in (0..<4).map { $0 == i % 4 ? 1.0 : 0.0 } }
        #expect(abs(ClassifierScore.score(probabilities: oneHot, classes: 4, over: comm) - 4) < 1e-12)
        // Certain but always the same class: no coverage, score 1.
        let collapsed = (0..<40).flatMap { _ -> [Double] in [1, 0, 0, 0] }
        #expect(abs(ClassifierScore.score(probabilities: collapsed, classes: 4, over: comm) - 1) < 1e-12)
    }

    /// Exact match counts a sample only when all of its targets are right.
    @Test func exactMatchOverWholeSequences() {
        // Two samples of 3 targets over 2 classes; the first is right everywhere, the second at 2 of 3.
        let logits = NDArray([1, 0, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0], shape: [6, 2])
        let targets = NDArray(indices: [0, 1, 0, 1, 1, 1], shape: [6])
        var scored = ClassificationAccumulator(
            classes: 2, collectsScores: false, sequenceLength: 3, scoresWholeSequences: true)
        scored.add(logits: logits, targets: targets, loss: 0.5, key: 0)
        let m = scored.reduce(over: SingleProcessCommunicator())
        #expect(m.exactMatch == 0.5 && abs(m.accuracy - 5.0 / 6) < 1e-12 && m.samples == 6)
        var language = ClassificationAccumulator(classes: 2, collectsScores: false, sequenceLength: 3)
        language.add(logits: logits, targets: targets, loss: 0.5, key: 0)
        #expect(language.reduce(over: SingleProcessCommunicator()).exactMatch == nil)
    }
}
