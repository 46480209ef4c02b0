import NN

/// A model that maps a batch of inputs to class logits (N, C): the contract the trainer and
/// the evaluator rely on.
public protocol Classifier: Module {
    /// - Parameter inputs: (N, ...) float32 features or int32 token ids, as the dataset gives them.
    /// - Returns: logits (M, C), one row per target: M = N, or N·T for a sequence dataset with a target per position.
    func logits(_ inputs: NDArray) -> Tensor
}
