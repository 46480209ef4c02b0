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

    static let geluScale: Float = 0.7978845608028654  // sqrt(2/pi)
    static let geluCubic: Float = 0.044715

    /// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
    ///
    /// Computed as v·σ(2u) = v / (1 + e^(-2u)), since (1 + tanh u)/2 = σ(2u): one exponential
    /// and one division, where tanh also evaluates a polynomial for small arguments and blends
    /// the two (GELU forward and backward were 9% of the GPT step that way).
    @inline(__always) static func geluTanh(_ v: Float) -> Float {
        v / (1 + FastMath.exp(v.addingProduct(v * v * v, geluCubic) * (-2 * geluScale)))
    }

    /// d/dx of `geluTanh`: s + v·s(1-s)·2k(1 + 3c·v²) with s = σ(2u), u = k(v + c·v³), and
    /// 1 - s = e·s for e = e^(-2u), so one division serves both.
    @inline(__always) static func geluTanhDerivative(_ v: Float) -> Float {
        let square = v * v
        let e = FastMath.exp(v.addingProduct(square * v, geluCubic) * (-2 * geluScale))
        let s = 1 / (1 + e)
        let slope = (1 as Float).addingProduct(square, 3 * geluCubic) * (2 * geluScale)
        return s.addingProduct(v * s * (e * s), slope)
    }

    /// y = f(x), shape preserved.
    public func forward(_ x: NDArray) -> NDArray {
        switch self {
        case .relu: return x.isHalf ? Self.reluBits(keep: x, where: x) : Unary.map(x, Relu.self)
        case .leakyRelu(let s): return Unary.map(x) { $0 > 0 ? $0 : s * $0 }
        case .elu(let a): return Unary.map(x) { $0 > 0 ? $0 : a * (expf($0) - 1) }
        case .sigmoid: return Unary.map(x, Sigmoid.self)
        case .tanh: return Unary.map(x, Tanh.self)
        case .geluTanh: return Unary.map(x, GeluTanh.self)
        case .geluErf: return Unary.map(x) { 0.5 * $0 * (1 + erff($0 * 0.7071067811865476)) }
        case .silu: return Unary.map(x) { $0 * FastMath.sigmoid($0) }
        case .softplus(let b, let t):
            // max(z, 0) + log1p(e^-|z|) equals log1p(e^z) without overflow for large z.
            return Unary.map(x) { v in
                let z = b * v
                return z > t ? v : (Swift.max(z, 0) + log1pf(expf(-Swift.abs(z)))) / b
            }
        }
    }

    /// dx = dy · f'(x); `y` is the forward output, which some derivatives reuse.
    /// - Parameters:
    ///   - dy: the gradient of the output.
    ///   - x: the forward input.
    ///   - y: the forward output.
    ///   - output: dx's type. ReLU, sigmoid, tanh, tanh-GELU and SiLU read a 16-bit
    ///     dy and x (or y) and write a 16-bit dx block by block; the others compute in fp32
    ///     (widening 16-bit inputs whole) and convert.
    public func backward(_ dy: NDArray, x: NDArray, y: NDArray, output: DType) -> NDArray {
        switch self {
        case .relu:
            if dy.isHalf && dy.dtype == x.dtype && output == x.dtype { return Self.reluBits(keep: dy, where: x) }
            return Self.vectorised(dy, x, ReluDerivative.self, output: output)
        case .sigmoid: return Self.vectorised(dy, y, SigmoidDerivative.self, output: output)
        case .tanh: return Self.vectorised(dy, y, TanhDerivative.self, output: output)
        case .geluTanh: return Self.vectorised(dy, x, GeluTanhDerivative.self, output: output)
        case .silu: return Self.vectorised(dy, x, SiluDerivative.self, output: output)
        default:
            let dx = backward(dy, x: x, y: y)
            return dx.dtype == output ? dx : dx.converted(to: output)
        }
    }

    /// dx = dy · f'(x) in fp32.
    public func backward(_ dy: NDArray, x: NDArray, y: NDArray) -> NDArray {
        switch self {
        case .relu: return Self.vectorised(dy, x, ReluDerivative.self)
        case .leakyRelu(let s): return Unary.zip(dy, x) { g, v in v > 0 ? g : s * g }
        case .elu(let a): return Unary.zip3(dy, x, y) { g, v, out in v > 0 ? g : g * (out + a) }
        case .sigmoid: return Self.vectorised(dy, y, SigmoidDerivative.self)
        case .tanh: return Self.vectorised(dy, y, TanhDerivative.self)
        case .geluTanh: return Self.vectorised(dy, x, GeluTanhDerivative.self)
        case .geluErf:
            return Unary.zip(dy, x) { g, v in
                let cdf = 0.5 * (1 + erff(v * 0.7071067811865476))
                let pdf = expf(-0.5 * v * v) * 0.3989422804014327
                return g * (cdf + v * pdf)
            }
        case .silu: return Self.vectorised(dy, x, SiluDerivative.self)
        case .softplus(let b, let t):
            return Unary.zip(dy, x) { g, v in b * v > t ? g : g * FastMath.sigmoid(b * v) }
        }
    }

    // The hot activations as types, so the loops of `Unary.map`, `Unary.zip` and `vectorised`
    // are specialised for each one with the function inlined and vectorised (a closure per
    // element is called, not vectorised: the tanh-GELU took a third of the GPT step that way).
    enum Relu: Pointwise { @inline(__always) static func apply(_ x: Float) -> Float { x > 0 ? x : 0 } }
    enum Sigmoid: Pointwise { @inline(__always) static func apply(_ x: Float) -> Float { FastMath.sigmoid(x) } }
    enum Tanh: Pointwise { @inline(__always) static func apply(_ x: Float) -> Float { FastMath.tanh(x) } }
    enum GeluTanh: Pointwise { @inline(__always) static func apply(_ x: Float) -> Float { Activation.geluTanh(x) } }
    enum GeluTanhDerivative: PointwisePair {
        @inline(__always) static func apply(_ dy: Float, _ x: Float) -> Float { dy * Activation.geluTanhDerivative(x) }
    }
    enum ReluDerivative: PointwisePair {
        @inline(__always) static func apply(_ dy: Float, _ x: Float) -> Float { x > 0 ? dy : 0 }
    }
    /// Reads the forward output s = σ(x).
    enum SigmoidDerivative: PointwisePair {
        @inline(__always) static func apply(_ dy: Float, _ s: Float) -> Float { dy * s * (1 - s) }
    }
    /// Reads the forward output t = tanh(x).
    enum TanhDerivative: PointwisePair {
        @inline(__always) static func apply(_ dy: Float, _ t: Float) -> Float { dy * (1 - t * t) }
    }
    enum SiluDerivative: PointwisePair {
        @inline(__always) static func apply(_ dy: Float, _ x: Float) -> Float {
            let s = FastMath.sigmoid(x)
            return dy * s * (1 + x * (1 - s))
        }
    }

    /// `x > 0 ? v : 0` over 16-bit arrays of one type, on their bits: ReLU's forward (v = x)
    /// and its backward (v = dy), with no widening or rounding.
    ///
    /// Bit for bit what widening, selecting in fp32 and rounding back give (a 16-bit value
    /// widens and rounds back to itself). Widening and rounding took the MLP's two ReLUs from
    /// 1.1% to 2.6% of its bf16 step.
    static func reluBits(keep v: NDArray, where x: NDArray) -> NDArray {
        precondition(
            v.shape == x.shape && v.dtype == x.dtype && x.isHalf,
            "16-bit ReLU on \(v.dtype) \(v.shape) and \(x.dtype) \(x.shape)")
        let out = NDArray(shape: x.shape, dtype: x.dtype, zeroed: false)
        let infinity: Int16 = x.dtype == .float16 ? 0x7C00 : 0x7F80
        let xs = UnsafeRawPointer(x.halfBits), vs = UnsafeRawPointer(v.halfBits),
            os = UnsafeMutableRawPointer(out.halfBits)
        // As signed integers, the x > 0 are 0 < x <= inf's bits (negative values are negative,
        // NaNs lie above inf). The masks come from wrapping subtractions and sign shifts: Swift's
        // SIMD comparisons compile to scalar code. (-0, 0x8000, has both shifts all ones.)
        @inline(__always) func keep<V: SIMD>(_ x: V, _ v: V) -> V where V.Scalar == Int16 {
            let positive = (V() &- x) &>> 15, aboveInfinity = (V(repeating: infinity) &- x) &>> 15
            return v & positive & ~aboveInfinity
        }
        ThreadPool.shared.parallelFor(x.count, grain: Unary.grain) { r in
            var i = r.lowerBound
            while i + 16 <= r.upperBound {
                os.storeBytes(
                    of: keep(
                        xs.loadUnaligned(fromByteOffset: 2 * i, as: SIMD16<Int16>.self),
                        vs.loadUnaligned(fromByteOffset: 2 * i, as: SIMD16<Int16>.self)),
                    toByteOffset: 2 * i, as: SIMD16<Int16>.self)
                i += 16
            }
            for j in i..<r.upperBound {
                let one = keep(
                    SIMD2(repeating: xs.load(fromByteOffset: 2 * j, as: Int16.self)),
                    SIMD2(repeating: vs.load(fromByteOffset: 2 * j, as: Int16.self)))
                os.storeBytes(of: one[0], toByteOffset: 2 * j, as: Int16.self)
            }
        }
        return out
    }

    /// dx = F(dy, x), of type `output`; dy and x (or the forward output, for derivatives that
    /// read it) may be 16-bit, widened a block at a time.
    static func vectorised<F: PointwisePair>(_ dy: NDArray, _ x: NDArray, _: F.Type, output: DType = .float32)
        -> NDArray
    {
        if !x.isHalf && !dy.isHalf && output == .float32 { return Unary.zip(dy, x, F.self) }
        precondition(dy.shape == x.shape, "elementwise op on shapes \(dy.shape) and \(x.shape)")
        let dx = NDArray(shape: x.shape, dtype: output, zeroed: false)
        let gs = RowAccess(dy), xs = RowAccess(x), dxs = RowAccess(dx)
        let block = Unary.halfBlock
        Unary.forEachBlock(x.count, buffers: 3) { start, n, scratch in
            let g = gs.load(start, n, scratch), v = xs.load(start, n, scratch + block)
            let d = dxs.target(start, scratch + 2 * block)
            for i in 0..<n { d[i] = F.apply(g[i], v[i]) }
            dxs.store(start, n, scratch + 2 * block)
        }
        return dx
    }
}
