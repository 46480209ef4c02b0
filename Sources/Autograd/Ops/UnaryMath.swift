import TensorCore

extension Tensor {
    /// e^x.
    public func exp() -> Tensor {
        let y = Unary.exp_forward(values)
        return Tensor.record("exp", y, inputs: [self]) { dy in [Unary.exp_backward(dy, y: y)] }
    }
    /// Natural logarithm.
    public func log() -> Tensor {
        let x = values
        return Tensor.record("log", Unary.log_forward(x), inputs: [self]) { dy in [Unary.log_backward(dy, x: x)] }
    }
    /// Square root.
    public func sqrt() -> Tensor {
        let y = Unary.sqrt_forward(values)
        return Tensor.record("sqrt", y, inputs: [self]) { dy in [Unary.sqrt_backward(dy, y: y)] }
    }
    /// |x|, with gradient 0 at 0.
    public func abs() -> Tensor {
        let x = values
        return Tensor.record("abs", Unary.abs_forward(x), inputs: [self]) { dy in [Unary.abs_backward(dy, x: x)] }
    }
    /// x^p for a constant exponent.
    public func pow(_ p: Float) -> Tensor {
        let x = values
        return Tensor.record("pow", Unary.pow_forward(x, p), inputs: [self]) { dy in [Unary.pow_backward(dy, x: x, p)] }
    }
    /// x clamped to [lo, hi].
    public func clamp(min lo: Float = -.infinity, max hi: Float = .infinity) -> Tensor {
        precondition(lo <= hi, "clamp: min \(lo) is above max \(hi)")
        let x = values
        return Tensor.record("clamp", Unary.clamp_forward(x, min: lo, max: hi), inputs: [self]) { dy in
            [Unary.clamp_backward(dy, x: x, min: lo, max: hi)]
        }
    }
}
