#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A function of one value as a type, so the loops that apply it are specialised with it
/// inlined and vectorised, also inside the closures the thread pool runs.
public protocol Pointwise { static func apply(_ x: Float) -> Float }

/// A function of two values as a type; see `Pointwise`.
public protocol PointwisePair { static func apply(_ a: Float, _ b: Float) -> Float }

/// Elementwise maps of one array, with their backward passes.
public enum Unary {
    /// Elements per thread below which a map stays on one thread.
    public static let grain = 1 << 15

    /// y[i] = f(x[i]), in parallel.
    ///
    /// On more than one thread `f` is called once per element (the pool's workers run a
    /// closure that captured it, and the compiler does not specialise that closure for `f`):
    /// hot elementwise ops pass their function as a type to `map(_:_:)` with `Pointwise`.
    @inline(__always)
    public static func map(_ x: NDArray, _ f: (Float) -> Float) -> NDArray {
        if x.isHalf { return mapBlocks(x) { t, n in for i in 0..<n { t[i] = f(t[i]) } } }
        let y = NDArray(shape: x.shape, zeroed: false)
        let xp = x.ptr, yp = y.ptr
        ThreadPool.shared.parallelFor(x.count, grain: grain) { r in for i in r { yp[i] = f(xp[i]) } }
        return y
    }

    /// A map of a 16-bit array to one of the same type, in one pass over memory: `body(buffer,
    /// count)` maps each widened block in place in fp32, and it is rounded back.
    @inline(__always)
    public static func mapBlocks(_ x: NDArray, _ body: (UnsafeMutablePointer<Float>, Int) -> Void) -> NDArray {
        let y = NDArray(shape: x.shape, dtype: x.dtype, zeroed: false)
        let yh = y.halfBits, dtype = x.dtype
        forEachWidenedBlock(x) { start, t, n in
            body(t, n)
            HalfCast.narrowBlock(t, yh + start, n, dtype)
        }
        return y
    }

    /// Elements per block of the kernels that widen 16-bit arrays a block at a time: 2 KiB of
    /// floats, so that a few blocks' buffers stay in L1.
    static let halfBlock = 512

    /// Calls `body(start, count, scratch)` for blocks of up to `halfBlock` elements of
    /// `0..<count`, in parallel; each thread has `buffers` scratch buffers of `halfBlock` floats.
    @inline(__always)
    static func forEachBlock(_ count: Int, buffers: Int, _ body: (Int, Int, UnsafeMutablePointer<Float>) -> Void) {
        ThreadPool.shared.parallelFor(count, grain: grain) { r in
            RowAccess.withScratch(buffers, halfBlock) { scratch in
                for start in stride(from: r.lowerBound, to: r.upperBound, by: halfBlock) {
                    body(start, min(halfBlock, r.upperBound - start), scratch)
                }
            }
        }
    }

    /// Calls `body(start, values, count)` for blocks of up to `halfBlock` elements of a 16-bit
    /// array, widened into an L1 buffer, in parallel. `body` is called per block, so a generic
    /// kernel's loop in it is specialised and vectorises (a closure called per element would
    /// not), and no widened copy of the whole array is made.
    @inline(__always)
    public static func forEachWidenedBlock(_ x: NDArray, _ body: (Int, UnsafeMutablePointer<Float>, Int) -> Void) {
        precondition(x.isHalf, "widened blocks of a 16-bit array, got \(x.dtype)")
        let xh = x.halfBits, dtype = x.dtype
        forEachBlock(x.count, buffers: 1) { start, n, t in
            HalfCast.widenBlock(xh + start, t, n, dtype)
            body(start, t, n)
        }
    }

    /// A zip of two 16-bit arrays of one type and shape to one of that type, in one pass:
    /// `body(x, y, count)` combines each pair of widened blocks into x's buffer in fp32, and
    /// it is rounded back.
    @inline(__always)
    public static func zipBlocks(
        _ x: NDArray, _ y: NDArray,
        _ body: (UnsafeMutablePointer<Float>, UnsafePointer<Float>, Int) -> Void
    ) -> NDArray {
        precondition(
            x.shape == y.shape && x.dtype == y.dtype, "zipBlocks of \(x.dtype) \(x.shape) and \(y.dtype) \(y.shape)")
        let z = NDArray(shape: x.shape, dtype: x.dtype, zeroed: false)
        let xh = x.halfBits, yh = y.halfBits, zh = z.halfBits, dtype = x.dtype
        forEachBlock(x.count, buffers: 2) { start, n, scratch in
            let (t, u) = (scratch, scratch + halfBlock)
            HalfCast.widenBlock(xh + start, t, n, dtype)
            HalfCast.widenBlock(yh + start, u, n, dtype)
            body(t, u, n)
            HalfCast.narrowBlock(t, zh + start, n, dtype)
        }
        return z
    }

    /// y[i] = F(x[i]), specialised and inlined for F on every thread; a 16-bit x gives a 16-bit
    /// y, widened and rounded block by block.
    public static func map<F: Pointwise>(_ x: NDArray, _: F.Type) -> NDArray {
        if x.isHalf { return mapBlocks(x) { t, n in for i in 0..<n { t[i] = F.apply(t[i]) } } }
        let y = NDArray(shape: x.shape, zeroed: false)
        let xp = x.ptr, yp = y.ptr
        ThreadPool.shared.parallelFor(x.count, grain: grain) { r in for i in r { yp[i] = F.apply(xp[i]) } }
        return y
    }

    /// z[i] = F(x[i], y[i]) for equal shapes, in fp32, specialised and inlined for F on every thread.
    public static func zip<F: PointwisePair>(_ x: NDArray, _ y: NDArray, _: F.Type) -> NDArray {
        precondition(x.shape == y.shape, "elementwise op on shapes \(x.shape) and \(y.shape)")
        let (x, y) = (x.float32, y.float32)
        let z = NDArray(shape: x.shape, zeroed: false)
        let xp = x.ptr, yp = y.ptr, zp = z.ptr
        ThreadPool.shared.parallelFor(x.count, grain: grain) { r in for i in r { zp[i] = F.apply(xp[i], yp[i]) } }
        return z
    }

    /// z[i] = f(x[i], y[i]) for equal shapes, in parallel (`f` is called per element on more
    /// than one thread; see `map`).
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
        precondition(
            x.shape == y.shape && y.shape == z.shape, "elementwise op on shapes \(x.shape), \(y.shape), \(z.shape)")
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
