/// A validation metric a config can watch: early stopping, reduce-on-plateau and the best checkpoint.
public enum MetricName: String, ConfigChoice {
    case loss, accuracy, top_k_accuracy, precision_macro, recall_macro, f1_macro, roc_auc, perplexity, exact_match
    /// Regression: mean absolute error, mean squared error, its root, and the coefficient of determination.
    case mae, mse, rmse, r2
}

/// Whether a watched metric improves downwards (`min`) or upwards (`max`).
public enum MetricMode: String, ConfigChoice {
    case min, max

    /// Whether `value` is better than `best`.
    public func improves(_ value: Double, on best: Double) -> Bool { self == .min ? value < best : value > best }
}
