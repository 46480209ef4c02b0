#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Softmax cross-entropy on logits, fused so backward is simply softmax minus target.
public enum CrossEntropy {
    /// Mean cross-entropy over the rows whose target is not `ignoreIndex`.
    ///
    /// With label smoothing ε the target distribution is (1 - ε)·onehot + ε / C, as in PyTorch.
    /// - Parameters:
    ///   - logits: (N, C).
    ///   - targets: int32 (N), each in [0, C) or equal to `ignoreIndex`.
    ///   - labelSmoothing: ε, in [0, 1).
    ///   - ignoreIndex: a target value whose rows are left out (nil: none).
    /// - Returns: the loss (a scalar), the log-probabilities (N, C) and the count of rows used.
    public static func forward(
        _ logits: NDArray, targets: NDArray, labelSmoothing: Float = 0,
        ignoreIndex: Int32? = nil
    ) -> (NDArray, NDArray, Int) {
        precondition(logits.rank == 2, "cross-entropy logits must be (N, C), got \(logits.shape)")
        let n = logits.shape[0], c = logits.shape[1]
        precondition(targets.count == n, "cross-entropy: \(targets.count) targets for \(n) rows of logits")
        precondition(
            labelSmoothing >= 0 && labelSmoothing <= 1, "label smoothing must be in [0, 1], got \(labelSmoothing)")
        let tp = targets.int32Pointer
        for i in 0..<n where tp[i] != ignoreIndex && (tp[i] < 0 || Int(tp[i]) >= c) {
            preconditionFailure("cross-entropy target \(tp[i]) at row \(i) is outside the \(c) classes")
        }
        let logp = Softmax.forward(logits, axis: 1, log: true)
        let lp = logp.ptr
        var total: Double = 0, used = 0
        for i in 0..<n where tp[i] != ignoreIndex {
            let row = lp + i * c
            var loss = -(1 - labelSmoothing) * row[Int(tp[i])]
            if labelSmoothing > 0 { loss -= labelSmoothing / Float(c) * Reduce.sumContiguous(row, c) }
            total += Double(loss); used += 1
        }
        return (.scalar(used == 0 ? 0 : Float(total / Double(used))), logp, used)
    }

    /// dlogits = (softmax - target) · dy / used, zero on ignored rows.
    public static func backward(
        _ dy: Float, logp: NDArray, targets: NDArray, labelSmoothing: Float = 0,
        ignoreIndex: Int32? = nil, used: Int
    ) -> NDArray {
        let n = logp.shape[0], c = logp.shape[1]
        let dx = NDArray(shape: logp.shape)
        if used == 0 { return dx }
        let scale = dy / Float(used), lp = logp.ptr, dp = dx.ptr, tp = targets.int32Pointer
        ThreadPool.shared.parallelFor(n, grain: max(1, 8192 / max(c, 1))) { r in
            for i in r where tp[i] != ignoreIndex {
                let row = lp + i * c, out = dp + i * c
                for j in 0..<c { out[j] = (FastMath.exp(row[j]) - labelSmoothing / Float(c)) * scale }
                out[Int(tp[i])] -= (1 - labelSmoothing) * scale
            }
        }
        return dx
    }
}
