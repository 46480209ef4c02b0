import TensorCore

extension Tensor {
    /// Softmax along `axis`.
    public func softmax(axis: Int = -1) -> Tensor {
        let y = Softmax.forward(values, axis: axis)
        return Tensor.record("softmax", y, inputs: [self], outputType: .float32) { dy in
            [Softmax.backward(dy, y: y, axis: axis)]
        }
    }

    /// Log-softmax along `axis`.
    public func logSoftmax(axis: Int = -1) -> Tensor {
        let y = Softmax.forward(values, axis: axis, log: true)
        return Tensor.record("log_softmax", y, inputs: [self], outputType: .float32) { dy in
            [Softmax.backward(dy, y: y, axis: axis, log: true)]
        }
    }

    /// Causal attention weights from scores (..., T, T): the softmax of `scale`·scores over
    /// positions 0...i in row i, zero after it (see `Softmax.causalForward`).
    ///
    /// 16-bit scores give 16-bit weights, which the product with V reads as they are: the
    /// (B, H, T, T) matrix is stored once, in half the bytes, instead of in fp32 and again
    /// as the 16-bit copy the GEMM would cast it to.
    public func causalSoftmax(scale: Float = 1) -> Tensor {
        let y = Softmax.causalForward(data, scale: scale)
        return Tensor.record("causal_softmax", y, inputs: [self], halfGradient: true) { dy in
            [Softmax.causalBackward(dy, y: y, scale: scale, output: self.gradientType)]
        }
    }
}
