/// Inverted dropout whose mask is a pure function of (seed, offset, element index).
///
/// The mask is never stored: backward regenerates it from the same counter, which saves
/// the memory of a mask per layer and makes masks independent of which thread or rank
/// computes them.
public enum Dropout {
    @inline(__always)
    static func keep(seed: UInt64, offset: UInt64, index: Int, p: Float) -> Bool {
        PhiloxRNG.uniform(seed: seed, offset: offset, index: index) >= p
    }

    /// y = x / (1 - p) where kept, 0 where dropped; each element dropped with probability p.
    public static func forward(_ x: NDArray, p: Float, seed: UInt64, offset: UInt64) -> NDArray {
        precondition(p >= 0 && p < 1, "dropout probability must be in [0, 1), got \(p)")
        return apply(x, p: p, seed: seed, offset: offset)
    }

    /// dx = dy / (1 - p) where the forward kept the element, else 0.
    public static func backward(_ dy: NDArray, p: Float, seed: UInt64, offset: UInt64) -> NDArray {
        apply(dy, p: p, seed: seed, offset: offset)
    }

    static func apply(_ x: NDArray, p: Float, seed: UInt64, offset: UInt64) -> NDArray {
        let y = NDArray(shape: x.shape, zeroed: false)
        let xp = x.ptr, yp = y.ptr, scale = 1 / (1 - p), n = x.count
        ThreadPool.shared.parallelFor((n + 3) / 4, grain: 4096) { r in
            for b in r {
                let w = PhiloxRNG.block(seed: seed, counter: offset &+ UInt64(b))
                for j in 0..<4 where b * 4 + j < n {
                    let i = b * 4 + j
                    yp[i] = PhiloxRNG.unitFloat(w[j]) >= p ? xp[i] * scale : 0
                }
            }
        }
        return y
    }
}
