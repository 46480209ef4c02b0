import Autograd

/// Loss functions with PyTorch's definitions and mean reduction.
public enum Loss {
    /// Softmax cross-entropy of logits (N, C) against int32 class indices (N).
    public static func crossEntropy(
        _ logits: Tensor, _ targets: NDArray, labelSmoothing: Float = 0,
        ignoreIndex: Int32? = nil
    ) -> Tensor {
        Autograd.crossEntropy(logits, targets: targets, labelSmoothing: labelSmoothing, ignoreIndex: ignoreIndex)
    }

    /// Binary cross-entropy on logits, stable for any magnitude:
    /// mean(softplus(x) - x·t), since -t·log σ(x) - (1-t)·log(1-σ(x)) = softplus(x) - x·t.
    /// - Parameters:
    ///   - logits: any shape.
    ///   - targets: probabilities in [0, 1] of the same shape.
    public static func bceWithLogits(_ logits: Tensor, _ targets: Tensor) -> Tensor {
        precondition(
            logits.shape == targets.shape, "bceWithLogits: logits \(logits.shape) and targets \(targets.shape) differ")
        return (logits.softplus(threshold: .infinity) - logits * targets).mean()
    }

    /// Mean squared error.
    public static func mse(_ prediction: Tensor, _ target: Tensor) -> Tensor {
        precondition(
            prediction.shape == target.shape, "mse: prediction \(prediction.shape) and target \(target.shape) differ")
        return (prediction - target).pow(2).mean()
    }

    /// Mean absolute error (L1).
    public static func l1(_ prediction: Tensor, _ target: Tensor) -> Tensor {
        precondition(
            prediction.shape == target.shape, "l1: prediction \(prediction.shape) and target \(target.shape) differ")
        return (prediction - target).abs().mean()
    }

    /// Huber loss with threshold `delta` (torch.nn.HuberLoss): ½d² where |d| ≤ delta, else
    /// delta·(|d| - ½delta). Written as ½q² + delta·(|d| - q) with q = min(|d|, delta), which is
    /// the same function built from differentiable ops.
    public static func huber(_ prediction: Tensor, _ target: Tensor, delta: Float = 1) -> Tensor {
        precondition(
            prediction.shape == target.shape, "huber: prediction \(prediction.shape) and target \(target.shape) differ")
        precondition(delta > 0, "huber: delta must be positive, got \(delta)")
        let a = (prediction - target).abs()
        let q = a.clamp(max: delta)
        return (q.pow(2) * 0.5 + (a - q) * delta).mean()
    }

    /// KL divergence of N(mu, exp(logVariance)) from N(0, I), the VAE regulariser (Kingma and
    /// Welling): -½·Σ(1 + log σ² - μ² - σ²) over the latent axis, averaged over the batch.
    /// - Parameters:
    ///   - mu: the posterior means (B, Z).
    ///   - logVariance: the posterior log-variances (B, Z).
    public static func gaussianKL(mu: Tensor, logVariance: Tensor) -> Tensor {
        precondition(
            mu.shape == logVariance.shape && mu.rank == 2,
            "gaussianKL: mu \(mu.shape) and logVariance \(logVariance.shape) must both be (B, Z)")
        let terms = 1 + logVariance - mu.pow(2) - logVariance.exp()
        return terms.sum(axes: [1]).mean() * -0.5
    }

    /// KL(softmax(t/T) ‖ softmax(s/T)) of a teacher's logits t from a student's logits s, summed
    /// over classes and averaged over rows: the soft term of knowledge distillation (Hinton et
    /// al. 2015), before its T² factor. Its gradient is (softmax(s/T) - softmax(t/T)) / (T·rows).
    /// - Parameters:
    ///   - student: logits (M, C).
    ///   - teacher: logits (M, C), constants.
    ///   - temperature: T > 0.
    public static func distillationKL(_ student: Tensor, teacher: NDArray, temperature: Float) -> Tensor {
        precondition(
            student.shape == teacher.shape && student.rank == 2,
            "distillationKL: student \(student.shape) and teacher \(teacher.shape) logits must both be (M, C)")
        let soft = withNoGrad { Tensor(teacher) * (1 / temperature) }
        let p = soft.softmax().values, logP = soft.logSoftmax().values
        let logQ = (student * (1 / temperature)).logSoftmax()
        return (Tensor(p) * (Tensor(logP) - logQ)).sum(axes: [1]).mean()
    }
}
