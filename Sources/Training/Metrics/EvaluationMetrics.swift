import Foundation

/// The metrics of one evaluation, identical on every rank.
public struct EvaluationMetrics: Sendable, Equatable {
    public var samples = 0
    /// False for models that are not classifiers (regressors, autoencoders).
    public var isClassification = true
    /// A regressor's errors (nil for other models).
    public var regression: RegressionScores?
    /// Mean cross-entropy (the model's own loss when it is not a classifier).
    public var loss = 0.0
    public var accuracy = 0.0
    /// Top-k accuracy (k from the config); nil when there are no more classes than k.
    public var topKAccuracy: Double?
    public var topK = 5
    /// Per class, from the confusion matrix (a class never predicted has precision 0, as scikit-learn).
    public var precision: [Double] = [], recall: [Double] = [], f1: [Double] = []
    /// confusion[true][predicted] counts.
    public var confusion: [[Int]] = []
    /// Macro one-vs-rest ROC-AUC.
    public var rocAUC: Double?
    /// Sequence data: the share of samples whose every target is predicted (with teacher
    /// forcing that equals greedy decoding's exact match); nil for one target per sample.
    public var exactMatch: Double?
    /// Generative models with `model.score_classifier`: the classifier-based Inception Score
    /// of generated images (see `ClassifierScore`).
    public var classifierScore: Double?
    /// The values of your own metrics (`EvaluationMetric`), by name.
    public var custom: [String: Double] = [:]

    public var precisionMacro: Double { mean(precision) }
    public var recallMacro: Double { mean(recall) }
    public var f1Macro: Double { mean(f1) }
    /// exp(loss): for language models, the effective number of equally likely next tokens.
    public var perplexity: Double { Foundation.exp(loss) }

    private func mean(_ xs: [Double]) -> Double { xs.isEmpty ? .nan : xs.reduce(0, +) / Double(xs.count) }

    /// The value of `metric`.
    public func value(of metric: MetricName) -> Double {
        switch metric {
        case .loss: return loss
        case .accuracy: return accuracy
        case .top_k_accuracy: return topKAccuracy ?? accuracy
        case .precision_macro: return precisionMacro
        case .recall_macro: return recallMacro
        case .f1_macro: return f1Macro
        case .roc_auc: return rocAUC ?? .nan
        case .perplexity: return perplexity
        case .exact_match: return exactMatch ?? .nan
        case .mae: return regression?.mae ?? .nan
        case .mse: return regression?.mse ?? .nan
        case .rmse: return regression?.rmse ?? .nan
        case .r2: return regression?.r2 ?? .nan
        }
    }

    /// A metrics.jsonl object (per-class lists and the confusion matrix only when `detailed`).
    public func json(split: String, step: Int, epoch: Int, detailed: Bool) -> [String: Any] {
        var out = builtIn(split: split, step: step, epoch: epoch, detailed: detailed)
        out.merge(custom) { builtIn, _ in builtIn }
        return out
    }

    private func builtIn(split: String, step: Int, epoch: Int, detailed: Bool) -> [String: Any] {
        guard isClassification else {
            var out: [String: Any] = ["split": split, "step": step, "epoch": epoch, "samples": samples, "loss": loss]
            if let classifierScore { out["classifier_score"] = classifierScore }
            if let r = regression { (out["mae"], out["mse"], out["rmse"], out["r2"]) = (r.mae, r.mse, r.rmse, r.r2) }
            return out
        }
        var out: [String: Any] = [
            "split": split, "step": step, "epoch": epoch, "samples": samples, "loss": loss,
            "accuracy": accuracy, "precision_macro": precisionMacro, "recall_macro": recallMacro,
            "f1_macro": f1Macro, "perplexity": perplexity,
        ]
        if let topKAccuracy { out["top\(topK)_accuracy"] = topKAccuracy }
        if let rocAUC { out["roc_auc"] = rocAUC }
        if let exactMatch { out["exact_match"] = exactMatch }
        if detailed {
            out["precision"] = precision
            out["recall"] = recall
            out["f1"] = f1
            out["confusion_matrix"] = confusion
        }
        return out
    }
}
