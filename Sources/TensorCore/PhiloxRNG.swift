#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Philox-4x32-10, a counter-based random number generator (Salmon et al., SC'11).
///
/// A counter-based generator maps (key, counter) to random bits with no hidden state, so
/// the random number for element `i` of a dropout mask is a pure function of the seed, the
/// call's offset and `i`: any thread or any rank can produce it, in any order, and resuming
/// needs only the seed and the offset.
public struct PhiloxRNG: Sendable, Codable, Equatable {
    public var seed: UInt64
    /// Counter offset; advanced by every draw so successive calls never reuse numbers.
    public var offset: UInt64

    public init(seed: UInt64, offset: UInt64 = 0) { self.seed = seed; self.offset = offset }

    /// Four 32-bit random words for a 128-bit counter (ctr, stream) under the generator's key.
    @inline(__always)
    public static func block(seed: UInt64, counter: UInt64, stream: UInt64 = 0) -> SIMD4<UInt32> {
        var c = SIMD4<UInt32>(
            UInt32(truncatingIfNeeded: counter), UInt32(truncatingIfNeeded: counter >> 32),
            UInt32(truncatingIfNeeded: stream), UInt32(truncatingIfNeeded: stream >> 32))
        var k0 = UInt32(truncatingIfNeeded: seed), k1 = UInt32(truncatingIfNeeded: seed >> 32)
        for _ in 0..<10 {
            let p0 = UInt64(0xD251_1F53) &* UInt64(c[0])
            let p1 = UInt64(0xCD9E_8D57) &* UInt64(c[2])
            c = SIMD4(
                UInt32(truncatingIfNeeded: p1 >> 32) ^ c[1] ^ k0, UInt32(truncatingIfNeeded: p1),
                UInt32(truncatingIfNeeded: p0 >> 32) ^ c[3] ^ k1, UInt32(truncatingIfNeeded: p0))
            k0 &+= 0x9E37_79B9
            k1 &+= 0xBB67_AE85
        }
        return c
    }

    /// A uniform float in [0, 1) from 24 random bits.
    @inline(__always)
    public static func unitFloat(_ bits: UInt32) -> Float { Float(bits >> 8) * (1.0 / 16_777_216.0) }

    /// The uniform number in [0, 1) for element `index` of the draw starting at `offset`.
    @inline(__always)
    public static func uniform(seed: UInt64, offset: UInt64, index: Int) -> Float {
        let block = Self.block(seed: seed, counter: offset &+ UInt64(index >> 2))
        return unitFloat(block[index & 3])
    }

    /// Reserves `n` numbers and returns the offset at which they start.
    public mutating func advance(_ n: Int) -> UInt64 {
        let start = offset
        offset &+= UInt64((n + 3) / 4)
        return start
    }

    /// Fills `out` with uniform numbers in [low, high).
    public mutating func fillUniform(_ out: UnsafeMutablePointer<Float>, _ n: Int, low: Float = 0, high: Float = 1) {
        let start = advance(n), s = seed
        ThreadPool.shared.parallelFor((n + 3) / 4, grain: 4096) { r in
            for b in r {
                let w = Self.block(seed: s, counter: start &+ UInt64(b))
                for j in 0..<4 where b * 4 + j < n { out[b * 4 + j] = low + (high - low) * Self.unitFloat(w[j]) }
            }
        }
    }

    /// Fills `out` with normal numbers (Box-Muller on pairs of uniforms).
    public mutating func fillNormal(_ out: UnsafeMutablePointer<Float>, _ n: Int, mean: Float = 0, std: Float = 1) {
        let start = advance(n), s = seed
        ThreadPool.shared.parallelFor((n + 3) / 4, grain: 4096) { r in
            for b in r {
                let w = Self.block(seed: s, counter: start &+ UInt64(b))
                for pair in 0..<2 {
                    // 1 - u keeps the log argument in (0, 1].
                    let u1 = 1 - Self.unitFloat(w[2 * pair]), u2 = Self.unitFloat(w[2 * pair + 1])
                    let radius = (-2 * logf(u1)).squareRoot(), theta = 2 * Float.pi * u2
                    let i = b * 4 + 2 * pair
                    if i < n { out[i] = mean + std * radius * cosf(theta) }
                    if i + 1 < n { out[i + 1] = mean + std * radius * sinf(theta) }
                }
            }
        }
    }
}
