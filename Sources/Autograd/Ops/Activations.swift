import TensorCore

extension Tensor {
    /// Applies a pointwise activation (see `Activation` for the list and its conventions).
    public func activation(_ f: Activation) -> Tensor {
        // A 16-bit x gives a 16-bit y in one pass; backward reads both in that stored form.
        let x = data, y = f.forward(x)
        return Tensor.record("\(f)", y, inputs: [self], halfGradient: true) { dy in
            [f.backward(dy, x: x, y: y, output: self.gradientType)]
        }
    }

    public func relu() -> Tensor { activation(.relu) }
    public func leakyRelu(slope: Float = 0.01) -> Tensor { activation(.leakyRelu(slope: slope)) }
    public func elu(alpha: Float = 1) -> Tensor { activation(.elu(alpha: alpha)) }
    public func sigmoid() -> Tensor { activation(.sigmoid) }
    public func tanh() -> Tensor { activation(.tanh) }
    /// GELU; `approximate: true` is the tanh form of GPT-2, false the exact erf form.
    public func gelu(approximate: Bool = false) -> Tensor { activation(approximate ? .geluTanh : .geluErf) }
    public func silu() -> Tensor { activation(.silu) }
    public func softplus(beta: Float = 1, threshold: Float = 20) -> Tensor {
        activation(.softplus(beta: beta, threshold: threshold))
    }
}
