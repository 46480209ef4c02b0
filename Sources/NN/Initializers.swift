import Autograd
#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// Weight initialisers with PyTorch's conventions for fan-in and fan-out.
public enum Init {
    /// The generator layers draw their initial weights from; reseed for reproducible models.
    /// One per thread: a model built after `seed` on one thread gets the same weights however
    /// many other threads build models at the same time (tests run in parallel in one
    /// process). Data parallelism does not depend on it: rank 0 broadcasts its weights.
    public static var rng: PhiloxRNG {
        get { stream.rng }
        set { stream.rng = newValue }
    }

    private final class Stream { var rng = PhiloxRNG(seed: 0) }
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { $0.map { Unmanaged<Stream>.fromOpaque($0).release() } }
        return key
    }()

    /// This thread's stream, made on first use.
    private static var stream: Stream {
        if let p = pthread_getspecific(key) { return Unmanaged<Stream>.fromOpaque(p).takeUnretainedValue() }
        let s = Stream()
        pthread_setspecific(key, Unmanaged.passRetained(s).toOpaque())
        return s
    }

    /// Restarts the initialisation generator (PyTorch's `manual_seed` for weights).
    public static func seed(_ s: UInt64) { rng = PhiloxRNG(seed: s) }

    /// (fan_in, fan_out) of a weight: (in, out) for Linear, times the kernel area for convolutions.
    public static func fans(_ shape: Shape) -> (Int, Int) {
        precondition(shape.rank >= 1, "fan of a scalar")
        if shape.rank == 1 { return (shape[0], shape[0]) }
        let receptive = shape.dims.dropFirst(2).reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }

    /// U(low, high).
    public static func uniform(_ shape: Shape, low: Float, high: Float) -> NDArray {
        let a = NDArray(shape: shape, zeroed: false)
        rng.fillUniform(a.ptr, a.count, low: low, high: high)
        return a
    }

    /// N(mean, std²).
    public static func normal(_ shape: Shape, mean: Float = 0, std: Float = 1) -> NDArray {
        let a = NDArray(shape: shape, zeroed: false)
        rng.fillNormal(a.ptr, a.count, mean: mean, std: std)
        return a
    }

    public static func zeros(_ shape: Shape) -> NDArray { NDArray(shape: shape) }
    public static func ones(_ shape: Shape) -> NDArray { NDArray(repeating: 1, shape: shape) }

    /// He initialisation, uniform: bound = gain·√(3 / fan_in), gain = √(2 / (1 + a²)).
    public static func kaimingUniform(_ shape: Shape, a: Float = 0) -> NDArray {
        let bound = (2 / (1 + a * a)).squareRoot() * (3 / Float(fans(shape).0)).squareRoot()
        return uniform(shape, low: -bound, high: bound)
    }

    /// He initialisation, normal: std = √(2 / (1 + a²)) / √fan_in.
    public static func kaimingNormal(_ shape: Shape, a: Float = 0) -> NDArray {
        normal(shape, std: (2 / (1 + a * a)).squareRoot() / Float(fans(shape).0).squareRoot())
    }

    /// Glorot initialisation, uniform: bound = gain·√(6 / (fan_in + fan_out)).
    public static func xavierUniform(_ shape: Shape, gain: Float = 1) -> NDArray {
        let (fi, fo) = fans(shape)
        let bound = gain * (6 / Float(fi + fo)).squareRoot()
        return uniform(shape, low: -bound, high: bound)
    }

    /// Glorot initialisation, normal: std = gain·√(2 / (fan_in + fan_out)).
    public static func xavierNormal(_ shape: Shape, gain: Float = 1) -> NDArray {
        let (fi, fo) = fans(shape)
        return normal(shape, std: gain * (2 / Float(fi + fo)).squareRoot())
    }

    /// PyTorch's default for Linear and Conv weights: kaiming_uniform with a = √5,
    /// i.e. U(±1/√fan_in).
    public static func defaultWeight(_ shape: Shape) -> Tensor {
        Tensor(kaimingUniform(shape, a: Float(5).squareRoot()), requiresGrad: true)
    }

    /// PyTorch's default bias: U(±1/√fan_in) of the layer's weight.
    public static func defaultBias(_ count: Int, fanIn: Int) -> Tensor {
        let bound = 1 / Float(max(fanIn, 1)).squareRoot()
        return Tensor(uniform([count], low: -bound, high: bound), requiresGrad: true)
    }
}
