/// The area under the ROC curve, exactly, from the rank statistic (Mann-Whitney U): the
/// probability that a random positive scores above a random negative, ties counting half.
public enum ROCAUC {
    /// - Parameters:
    ///   - scores: one score per sample, higher meaning more likely positive.
    ///   - positive: whether each sample is positive.
    /// - Returns: the AUC, or nil when one of the two classes is absent.
    public static func binary(scores: [Float], positive: [Bool]) -> Double? {
        precondition(scores.count == positive.count, "ROC-AUC needs one label per score")
        let positives = positive.filter { $0 }.count, negatives = positive.count - positives
        guard positives > 0, negatives > 0 else { return nil }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        // Sum of the positives' ranks (1-based), ties sharing their average rank.
        var rankSum = 0.0, i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
            let averageRank = Double(i + j + 2) / 2
            for k in i...j where positive[order[k]] { rankSum += averageRank }
            i = j + 1
        }
        let u = rankSum - Double(positives) * Double(positives + 1) / 2
        return u / (Double(positives) * Double(negatives))
    }

    /// Macro one-vs-rest AUC over classes (scikit-learn's `roc_auc_score(multi_class="ovr")`):
    /// the mean of each present class's binary AUC.
    /// - Parameters:
    ///   - probabilities: (N · C) row-major class probabilities.
    ///   - labels: N class indices.
    ///   - classes: C.
    public static func macroOneVsRest(probabilities: [Float], labels: [Int], classes: Int) -> Double? {
        precondition(probabilities.count == labels.count * classes, "ROC-AUC needs N x C probabilities")
        if classes == 2 {
            return binary(
                scores: stride(from: 1, to: probabilities.count, by: 2).map { probabilities[$0] },
                positive: labels.map { $0 == 1 })
        }
        let aucs = (0..<classes).compactMap { c in
            binary(scores: labels.indices.map { probabilities[$0 * classes + c] }, positive: labels.map { $0 == c })
        }
        return aucs.isEmpty ? nil : aucs.reduce(0, +) / Double(aucs.count)
    }
}
