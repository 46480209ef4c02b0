#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Elementwise maps of one array, with their backward passes.
public enum Unary {
    /// Elements per thread below which a map stays on one thread.
    public static let grain = 1 << 15

    /// y[i] = f(x[i]), in parallel.
    @inline(__always)
    public static func map(_ x: NDArray, _ f: (Float) -> Float) -> NDArray {
        let y = NDArray(shape: x.shape, dtype: x.isHalf ? x.dtype : .float32, zeroed: false)
        if x.isHalf {
            // 16 bits in, 16 bits out in one pass over memory: blocks of 512 are widened into an
            // L1 buffer, mapped in fp32 and rounded back, three simple loops that vectorise.
            let xh = x.halfBits, yh = y.halfBits, dtype = x.dtype
            ThreadPool.shared.parallelFor(x.count, grain: grain) { r in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: 512) { buffer in
                    let t = buffer.baseAddress!
                    for start in stride(from: r.lowerBound, to: r.upperBound, by: 512) {
                        let n = min(512, r.upperBound - start)
                        HalfCast.widenBlock(xh + start, t, n, dtype)
                        for i in 0..<n { t[i] = f(t[i]) }
                        HalfCast.narrowBlock(t, yh + start, n, dtype)
                    }
                }
            }
            return y
        }
        let xp = x.ptr, yp = y.ptr
        ThreadPool.shared.parallelFor(x.count, grain: grain) { r in for i in r { yp[i] = f(xp[i]) } }
        return y
    }

    /// z[i] = f(x[i], y[i]) for equal shapes, in parallel.
    @inline(__always)
    public static func zip(_ x: NDArray, _ y: NDArray, _ f: (Float, Float) -> Float) -> NDArray {
        precondition(x.shape == y.shape, "elementwise op on shapes \(x.shape) and \(y.shape)")
        let (x, y) = (x.float32, y.float32)
        let z = NDArray(shape: x.shape, zeroed: false)
        let xp = x.ptr, yp = y.ptr, zp = z.ptr
        ThreadPool.shared.parallelFor(x.count, grain: grain) { r in for i in r { zp[i] = f(xp[i], yp[i]) } }
        return z
    }

    /// w[i] = f(x[i], y[i], z[i]) for equal shapes, in parallel.
    @inline(__always)
    public static func zip3(_ x: NDArray, _ y: NDArray, _ z: NDArray, _ f: (Float, Float, Float) -> Float) -> NDArray {
        precondition(x.shape == y.shape && y.shape == z.shape, "elementwise op on shapes \(x.shape), \(y.shape), \(z.shape)")
        let (x, y, z) = (x.float32, y.float32, z.float32)
        let w = NDArray(shape: x.shape, zeroed: false)
        let xp = x.ptr, yp = y.ptr, zp = z.ptr, wp = w.ptr
        ThreadPool.shared.parallelFor(x.count, grain: grain) { r in for i in r { wp[i] = f(xp[i], yp[i], zp[i]) } }
        return w
    }

    /// x[i] += y[i] in place (gradient accumulation).
    public static func addInPlace(_ x: NDArray, _ y: NDArray) {
        precondition(x.count == y.count, "accumulating \(y.shape) into \(x.shape)")
        let xp = x.ptr, yp = y.ptr
        ThreadPool.shared.parallelFor(x.count, grain: grain) { r in for i in r { xp[i] += yp[i] } }
    }

    /// x[i] *= s in place.
    public static func scaleInPlace(_ x: NDArray, _ s: Float) {
        let xp = x.ptr
        ThreadPool.shared.parallelFor(x.count, grain: grain) { r in for i in r { xp[i] *= s } }
    }

    // MARK: math functions and their derivatives

    public static func exp_forward(_ x: NDArray) -> NDArray { map(x) { FastMath.exp($0) } }
    /// dx = dy · y, with y = exp(x).
    public static func exp_backward(_ dy: NDArray, y: NDArray) -> NDArray { zip(dy, y) { $0 * $1 } }

    public static func log_forward(_ x: NDArray) -> NDArray { map(x) { logf($0) } }
    /// dx = dy / x.
    public static func log_backward(_ dy: NDArray, x: NDArray) -> NDArray { zip(dy, x) { $0 / $1 } }

    public static func sqrt_forward(_ x: NDArray) -> NDArray { map(x) { $0.squareRoot() } }
    /// dx = dy / (2 y), with y = sqrt(x).
    public static func sqrt_backward(_ dy: NDArray, y: NDArray) -> NDArray { zip(dy, y) { $0 / (2 * $1) } }

    public static func abs_forward(_ x: NDArray) -> NDArray { map(x) { Swift.abs($0) } }
    /// dx = dy · sign(x), with sign(0) = 0 as in PyTorch.
    public static func abs_backward(_ dy: NDArray, x: NDArray) -> NDArray {
        zip(dy, x) { g, v in v > 0 ? g : (v < 0 ? -g : 0) }
    }

    public static func pow_forward(_ x: NDArray, _ p: Float) -> NDArray {
        if p == 2 { return map(x) { $0 * $0 } }
        return map(x) { powf($0, p) }
    }
    /// dx = dy · p · x^(p-1).
    public static func pow_backward(_ dy: NDArray, x: NDArray, _ p: Float) -> NDArray {
        if p == 2 { return zip(dy, x) { $0 * 2 * $1 } }
        return zip(dy, x) { g, v in g * p * powf(v, p - 1) }
    }

    public static func clamp_forward(_ x: NDArray, min lo: Float, max hi: Float) -> NDArray {
        map(x) { Swift.min(Swift.max($0, lo), hi) }
    }
    /// dx = dy where lo <= x <= hi, else 0 (PyTorch passes the gradient at the bounds).
    public static func clamp_backward(_ dy: NDArray, x: NDArray, min lo: Float, max hi: Float) -> NDArray {
        zip(dy, x) { g, v in v >= lo && v <= hi ? g : 0 }
    }
}
