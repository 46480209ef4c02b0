import TensorCore

/// Mean softmax cross-entropy of logits against class indices.
/// - Parameters:
///   - logits: (N, C).
///   - targets: int32 (N).
///   - labelSmoothing: ε in [0, 1]; the target becomes (1 - ε)·onehot + ε/C.
///   - ignoreIndex: rows with this target count neither in the loss nor in the mean.
public func crossEntropy(_ logits: Tensor, targets: NDArray, labelSmoothing: Float = 0, ignoreIndex: Int32? = nil)
    -> Tensor
{
    let (loss, logp, used) = CrossEntropy.forward(
        logits.values, targets: targets, labelSmoothing: labelSmoothing, ignoreIndex: ignoreIndex)
    return Tensor.record("cross_entropy", loss, inputs: [logits], outputType: .float32) { dy in
        [
            CrossEntropy.backward(
                dy.item, logp: logp, targets: targets, labelSmoothing: labelSmoothing,
                ignoreIndex: ignoreIndex, used: used)
        ]
    }
}
