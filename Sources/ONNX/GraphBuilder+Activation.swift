import NN

extension GraphBuilder {
    /// A pointwise activation with Tandem's exact definition.
    public func activation(_ f: Activation, _ x: ONNXValue, scope: String) -> ONNXValue {
        switch f {
        case .relu: return unary("Relu", x, scope: scope)
        case .leakyRelu(let slope): return unary("LeakyRelu", x, [.float("alpha", slope)], scope: scope)
        case .elu(let alpha): return unary("Elu", x, [.float("alpha", alpha)], scope: scope)
        case .sigmoid: return unary("Sigmoid", x, scope: scope)
        case .tanh: return unary("Tanh", x, scope: scope)
        case .silu: return mul(x, unary("Sigmoid", x, scope: scope), scope: scope)
        case .geluErf: return gelu(x, approximate: false, scope: scope)
        case .geluTanh: return gelu(x, approximate: true, scope: scope)
        case .softplus(let beta, _):
            // Above the threshold PyTorch's softplus is x itself; log(1 + e^x) is x there to within fp32 rounding.
            if beta == 1 { return unary("Softplus", x, scope: scope) }
            return scale(unary("Softplus", scale(x, by: beta, scope: scope), scope: scope), by: 1 / beta, scope: scope)
        }
    }

    /// GELU: one Gelu node from opset 20; before it, x·Φ(x) with Erf, or GPT-2's tanh form
    /// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
    public func gelu(_ x: ONNXValue, approximate: Bool, scope: String) -> ONNXValue {
        if opset >= 20 {
            return unary("Gelu", x, [.string("approximate", approximate ? "tanh" : "none")], scope: scope)
        }
        let half = scale(x, by: 0.5, scope: scope)
        let inner: ONNXValue
        if approximate {
            let cube = mul(mul(x, x, scope: scope), x, scope: scope)
            let sum = add(x, scale(cube, by: 0.044715, scope: scope), scope: scope)
            inner = unary("Tanh", scale(sum, by: 0.7978845608028654, scope: scope), scope: scope)
        } else {
            inner = unary("Erf", scale(x, by: 0.7071067811865476, scope: scope), scope: scope)
        }
        return mul(half, add(inner, constant([1], shape: []), scope: scope), scope: scope)
    }

    /// PReLU: one slope per channel of axis 1 (PRelu, the slopes shaped to broadcast there).
    public func prelu(_ layer: PReLU, _ x: ONNXValue, scope: String) -> ONNXValue {
        let c = layer.weight.count
        var slope = parameter(layer.weight)
        if c > 1 && x.rank > 2 {
            let target = [c] + Array(repeating: 1, count: x.rank - 2)
            slope = reshape(slope, target, scope: scope, shape: target.map { .fixed($0) })
        }
        return node("PRelu", [x, slope], scope: scope, shape: x.shape)
    }
}
