import Autograd

/// Loss functions with PyTorch's definitions and mean reduction.
public enum Loss {
    /// Softmax cross-entropy of logits (N, C) against int32 class indices (N).
    public static func crossEntropy(_ logits: Tensor, _ targets: NDArray, labelSmoothing: Float = 0,
                                    ignoreIndex: Int32? = nil) -> Tensor {
        Autograd.crossEntropy(logits, targets: targets, labelSmoothing: labelSmoothing, ignoreIndex: ignoreIndex)
    }

    /// Binary cross-entropy on logits, stable for any magnitude:
    /// mean(softplus(x) - x·t), since -t·log σ(x) - (1-t)·log(1-σ(x)) = softplus(x) - x·t.
    /// - Parameters:
    ///   - logits: any shape.
    ///   - targets: probabilities in [0, 1] of the same shape.
    public static func bceWithLogits(_ logits: Tensor, _ targets: Tensor) -> Tensor {
        precondition(logits.shape == targets.shape, "bceWithLogits: logits \(logits.shape) and targets \(targets.shape) differ")
        return (logits.softplus(threshold: .infinity) - logits * targets).mean()
    }

    /// Mean squared error.
    public static func mse(_ prediction: Tensor, _ target: Tensor) -> Tensor {
        precondition(prediction.shape == target.shape, "mse: prediction \(prediction.shape) and target \(target.shape) differ")
        return (prediction - target).pow(2).mean()
    }

    /// Mean absolute error (L1).
    public static func l1(_ prediction: Tensor, _ target: Tensor) -> Tensor {
        precondition(prediction.shape == target.shape, "l1: prediction \(prediction.shape) and target \(target.shape) differ")
        return (prediction - target).abs().mean()
    }
}
