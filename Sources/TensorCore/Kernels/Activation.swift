#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Pointwise activation functions, each forward next to its derivative.
public enum Activation: Equatable, Sendable {
    case relu
    case leakyRelu(slope: Float)
    case elu(alpha: Float)
    case sigmoid
    case tanh
    /// GELU with the tanh approximation (GPT-2, llm.c).
    case geluTanh
    /// Exact GELU, x·Φ(x), with the error function.
    case geluErf
    /// SiLU / Swish: x·σ(x).
    case silu
    /// log(1 + e^(βx))/β, linear above `threshold` as in PyTorch.
    case softplus(beta: Float, threshold: Float)

    @inline(__always) static func sigmoidf(_ x: Float) -> Float { 1 / (1 + expf(-x)) }
    static let geluScale: Float = 0.7978845608028654 // sqrt(2/pi)
    static let geluCubic: Float = 0.044715

    /// y = f(x), shape preserved.
    public func forward(_ x: NDArray) -> NDArray {
        switch self {
        case .relu: return Unary.map(x) { $0 > 0 ? $0 : 0 }
        case .leakyRelu(let s): return Unary.map(x) { $0 > 0 ? $0 : s * $0 }
        case .elu(let a): return Unary.map(x) { $0 > 0 ? $0 : a * (expf($0) - 1) }
        case .sigmoid: return Unary.map(x) { Activation.sigmoidf($0) }
        case .tanh: return Unary.map(x) { tanhf($0) }
        case .geluTanh:
            return Unary.map(x) { v in
                0.5 * v * (1 + tanhf(Activation.geluScale * (v + Activation.geluCubic * v * v * v)))
            }
        case .geluErf: return Unary.map(x) { 0.5 * $0 * (1 + erff($0 * 0.7071067811865476)) }
        case .silu: return Unary.map(x) { $0 * Activation.sigmoidf($0) }
        case .softplus(let b, let t):
            // max(z, 0) + log1p(e^-|z|) equals log1p(e^z) without overflow for large z.
            return Unary.map(x) { v in
                let z = b * v
                return z > t ? v : (Swift.max(z, 0) + log1pf(expf(-Swift.abs(z)))) / b
            }
        }
    }

    /// dx = dy · f'(x); `y` is the forward output, which some derivatives reuse.
    public func backward(_ dy: NDArray, x: NDArray, y: NDArray) -> NDArray {
        switch self {
        case .relu: return Unary.zip(dy, x) { g, v in v > 0 ? g : 0 }
        case .leakyRelu(let s): return Unary.zip(dy, x) { g, v in v > 0 ? g : s * g }
        case .elu(let a): return Unary.zip3(dy, x, y) { g, v, out in v > 0 ? g : g * (out + a) }
        case .sigmoid: return Unary.zip(dy, y) { g, s in g * s * (1 - s) }
        case .tanh: return Unary.zip(dy, y) { g, t in g * (1 - t * t) }
        case .geluTanh:
            return Unary.zip(dy, x) { g, v in
                let inner = Activation.geluScale * (v + Activation.geluCubic * v * v * v)
                let t = tanhf(inner)
                let dInner = Activation.geluScale * (1 + 3 * Activation.geluCubic * v * v)
                return g * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * dInner)
            }
        case .geluErf:
            return Unary.zip(dy, x) { g, v in
                let cdf = 0.5 * (1 + erff(v * 0.7071067811865476))
                let pdf = expf(-0.5 * v * v) * 0.3989422804014327
                return g * (cdf + v * pdf)
            }
        case .silu:
            return Unary.zip(dy, x) { g, v in
                let s = Activation.sigmoidf(v)
                return g * s * (1 + v * (1 - s))
            }
        case .softplus(let b, let t):
            return Unary.zip(dy, x) { g, v in b * v > t ? g : g * Activation.sigmoidf(b * v) }
        }
    }
}
