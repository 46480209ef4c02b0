/// What a dataset's targets are, which decides the model's head, loss and metrics.
public enum DatasetTask: String, NamedChoice {
    /// int32 class indices in 0..<classCount: cross-entropy, accuracy.
    case classification
    /// float32 values, K per sample: mean squared error, MAE, R².
    case regression
}
