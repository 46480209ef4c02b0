import TensorCore

/// `model.activation`: the nonlinearity of the built-in MLP and CNNs.
public enum ActivationName: String, ConfigChoice {
    case relu
    case leakyRelu = "leaky_relu"
    case elu, gelu
    case geluTanh = "gelu_tanh"
    case silu, swish, tanh, sigmoid, softplus

    /// The function, with PyTorch's default parameters (leaky_relu slope 0.01, elu alpha 1,
    /// softplus beta 1 and threshold 20; gelu exact, gelu_tanh GPT-2's approximation).
    public var function: Activation {
        switch self {
        case .relu: return .relu
        case .leakyRelu: return .leakyRelu(slope: 0.01)
        case .elu: return .elu(alpha: 1)
        case .gelu: return .geluErf
        case .geluTanh: return .geluTanh
        case .silu, .swish: return .silu
        case .tanh: return .tanh
        case .sigmoid: return .sigmoid
        case .softplus: return .softplus(beta: 1, threshold: 20)
        }
    }
}
