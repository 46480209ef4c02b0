import Autograd
import Collective

/// Gathers a classifier's predictions over an evaluation and reduces them across ranks.
///
/// Counts (confusion matrix, top-k hits, loss sum) are summed with one allreduce; ROC-AUC
/// needs every score, so probabilities and labels are gathered from all ranks.
public struct ClassificationAccumulator {
    public let classes: Int, topK: Int
    public let collectsScores: Bool
    /// Targets per sample: every `sequenceLength` rows are one sample.
    public let sequenceLength: Int
    /// Report the share of samples with every row right (`EvaluationMetrics.exactMatch`).
    public let scoresWholeSequences: Bool
    private var confusion: [Double]
    private var topKHits = 0.0, count = 0.0, exactMatches = 0.0
    /// Σ loss · samples by batch key, added in key order (the same bits on any world size).
    private var lossSum = OrderedSum(width: 1)
    private var probabilities: [Float] = [], labels: [Float] = []

    /// - Parameters:
    ///   - classes: number of classes.
    ///   - topK: k of the top-k accuracy.
    ///   - collectsScores: keep probabilities for ROC-AUC (memory N · C floats).
    ///   - sequenceLength: targets per sample (1 for classification).
    ///   - scoresWholeSequences: report exact match over samples.
    public init(
        classes: Int, topK: Int = 5, collectsScores: Bool = true, sequenceLength: Int = 1,
        scoresWholeSequences: Bool = false
    ) {
        (self.classes, self.topK, self.collectsScores) = (classes, topK, collectsScores)
        (self.sequenceLength, self.scoresWholeSequences) = (sequenceLength, scoresWholeSequences)
        confusion = [Double](repeating: 0, count: classes * classes)
    }

    /// Adds a batch.
    /// - Parameters:
    ///   - logits: (N, C).
    ///   - targets: int32 (N).
    ///   - loss: the batch's mean loss.
    /// - Parameter key: the batch's place in the split (unique over ranks).
    public mutating func add(logits: NDArray, targets: NDArray, loss: Double, key: Int) {
        let n = targets.shape[0], c = classes
        precondition(logits.shape == [n, c], "logits \(logits.shape) do not match \(n) targets of \(c) classes")
        let z = logits.ptr, t = targets.int32Pointer
        precondition(n % sequenceLength == 0, "\(n) targets do not make whole sequences of \(sequenceLength)")
        var sequenceRight = true
        for i in 0..<n {
            let row = z + i * c, truth = Int(t[i])
            var best = 0
            for j in 1..<c where row[j] > row[best] { best = j }
            confusion[truth * c + best] += 1
            // With teacher forcing, every position right is exactly what greedy decoding reproduces.
            sequenceRight = sequenceRight && best == truth
            if (i + 1) % sequenceLength == 0 {
                if sequenceRight { exactMatches += 1 }
                sequenceRight = true
            }
            // Rank of the true class: how many logits beat it (ties resolved in its favour).
            var above = 0
            for j in 0..<c where row[j] > row[truth] { above += 1 }
            if above < topK { topKHits += 1 }
            if collectsScores {
                let m = (0..<c).reduce(-Float.infinity) { max($0, row[$1]) }
                let e = (0..<c).map { Foundation.exp(row[$0] - m) }
                let s = e.reduce(0, +)
                probabilities += e.map { $0 / s }
                labels.append(Float(truth))
            }
        }
        lossSum.add(key: key, loss * Double(n))
        count += Double(n)
    }

    /// The metrics over every rank's samples (a collective: every rank calls it).
    public func reduce(over communicator: Communicator) -> EvaluationMetrics {
        let sums = communicator.allreduce(confusion + [topKHits, 0, count, exactMatches])
        let lossTotal = lossSum.totals(over: communicator)[0]
        let c = classes, n = sums[c * c + 2]
        var m = EvaluationMetrics()
        m.samples = Int(n)
        m.topK = topK
        m.loss = n > 0 ? lossTotal / n : .nan
        m.confusion = (0..<c).map { i in (0..<c).map { j in Int(sums[i * c + j]) } }
        let correct = (0..<c).reduce(0.0) { $0 + sums[$1 * c + $1] }
        m.accuracy = n > 0 ? correct / n : .nan
        if c > topK { m.topKAccuracy = n > 0 ? sums[c * c] / n : .nan }
        if scoresWholeSequences { m.exactMatch = n > 0 ? sums[c * c + 3] / (n / Double(sequenceLength)) : .nan }
        for k in 0..<c {
            let tp = sums[k * c + k]
            let predicted = (0..<c).reduce(0.0) { $0 + sums[$1 * c + k] }
            let actual = (0..<c).reduce(0.0) { $0 + sums[k * c + $1] }
            let p = predicted > 0 ? tp / predicted : 0, r = actual > 0 ? tp / actual : 0
            m.precision.append(p)
            m.recall.append(r)
            m.f1.append(p + r > 0 ? 2 * p * r / (p + r) : 0)
        }
        if collectsScores {
            let allProbabilities = communicator.allgather(probabilities), allLabels = communicator.allgather(labels)
            m.rocAUC = ROCAUC.macroOneVsRest(
                probabilities: allProbabilities, labels: allLabels.map { Int($0) }, classes: c)
        }
        return m
    }
}

import Foundation
