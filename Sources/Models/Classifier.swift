import NN

/// A model that maps a batch of inputs to class logits: the contract the trainer and the
/// evaluator rely on for accuracy and the other classification metrics.
public protocol Classifier: TrainableModel {
    /// - Parameter inputs: (N, ...) float32 features or int32 token ids, as the dataset gives them.
    /// - Returns: logits (M, C), one row per target: M = N, or N·T for a sequence dataset with a target per position.
    func logits(_ inputs: NDArray) -> Tensor
}

extension Classifier {
    /// Cross-entropy of the logits against the targets.
    public func loss(inputs: NDArray, targets: NDArray, labelSmoothing: Float) -> Tensor {
        Loss.crossEntropy(logits(inputs), targets, labelSmoothing: labelSmoothing)
    }
}
