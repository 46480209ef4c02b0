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

/// A model that can show what it learnt as images (reconstructions, samples, interpolations).
public protocol ImageGridReporter: Module {
    /// Named grids of images in [0, 1], each (count, channels, height, width) with its number
    /// of columns, made from a batch of held-out images.
    /// - Parameters:
    ///   - images: (N, C, H, W) held-out inputs.
    ///   - rng: the stream for any sampling.
    func imageGrids(from images: NDArray, rng: inout PhiloxRNG) -> [(name: String, images: NDArray, columns: Int)]
}
