import NN

/// A model the trainer can train: it turns a batch into the scalar loss to minimise.
public protocol TrainableModel: Module {
    /// The training objective of one batch.
    /// - Parameters:
    ///   - inputs: (N, ...) float32 features or int32 token ids, as the dataset gives them.
    ///   - targets: the dataset's targets, one row per prediction (ignored by models whose
    ///     target is their input).
    ///   - labelSmoothing: for classifiers' cross-entropy.
    func loss(inputs: NDArray, targets: NDArray, labelSmoothing: Float) -> Tensor
}
