/// 64-bit fixed-point encoding of fp32 values, for sums that must not depend on their order.
///
/// With one exponent shared by every term, integer addition is exact and associative, so a
/// sum over ranks and micro-shards gives the same bits however it is split and ordered
/// (deterministic mode). Terms stay below 2^51 in magnitude, so the conversions can use
/// the 1.5·2^52 trick (exact round-half-even in Double arithmetic, and vectorisable: AVX2
/// has no int64 <-> double instructions), and any `terms` of them add without overflow.
public enum FixedPoint {
    /// 1.5·2^52: adding it to |x| < 2^51 leaves round(x) in the low bits of the significand.
    static let magic: Double = 6_755_399_441_055_744
    static let magicBits = Int64(bitPattern: magic.bitPattern)

    /// The exponent e for values of magnitude at most `largest` summed `terms` at a time:
    /// |v| · 2^e < 2^(51 - ceil(log2 terms)), so every term and the sum stay below 2^51.
    /// Values 2^46 or more times smaller than the largest lose bits; fp32 keeps 24.
    public static func exponent(largest: Double, terms: Int) -> Int {
        guard largest > 0, largest.isFinite else { return 0 }
        let headroom = Int.bitWidth - (max(terms, 1) - 1).leadingZeroBitCount
        return (51 - headroom) - largest.exponent - 1
    }

    /// The largest magnitude of n values (NaN when any value is NaN or infinite).
    public static func largestMagnitude(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        // |x|'s bits order like its value, and NaN and infinity sit above every finite value:
        // an integer max (which vectorises, unlike a float one) finds both.
        var largest: UInt32 = 0
        for i in 0..<n { largest = max(largest, x[i].bitPattern & 0x7fff_ffff) }
        return largest >= 0x7f80_0000 ? .nan : Float(bitPattern: largest)
    }

    /// Moves n values from `source` to `destination`, zeroing the source, and returns their
    /// largest magnitude (NaN when any value is NaN or infinite), in one pass.
    public static func move(
        _ source: UnsafeMutablePointer<Float>, to destination: UnsafeMutablePointer<Float>, _ n: Int
    ) -> Float {
        var largest: UInt32 = 0
        for i in 0..<n {
            let v = source[i]
            destination[i] = v
            source[i] = 0
            largest = max(largest, v.bitPattern & 0x7fff_ffff)
        }
        return largest >= 0x7f80_0000 ? .nan : Float(bitPattern: largest)
    }

    /// sums[i] = round(x[i] · 2^exponent), rounding half to even; |x[i]| · 2^exponent < 2^51.
    /// The first term of a sum: it writes instead of adding, which saves zeroing `sums`.
    public static func encode(
        _ x: UnsafePointer<Float>, _ n: Int, exponent: Int, into sums: UnsafeMutablePointer<Int64>
    ) {
        let scale = Double(sign: .plus, exponent: exponent, significand: 1)
        for i in 0..<n { sums[i] = fixed(x[i], scale) }
    }

    /// sums[i] += round(x[i] · 2^exponent), rounding half to even; |x[i]| · 2^exponent < 2^51.
    public static func accumulate(
        _ x: UnsafePointer<Float>, _ n: Int, exponent: Int, into sums: UnsafeMutablePointer<Int64>
    ) {
        let scale = Double(sign: .plus, exponent: exponent, significand: 1)
        for i in 0..<n { sums[i] &+= fixed(x[i], scale) }
    }

    /// round(v · scale) as an integer, by the magic-number trick (no int64 conversion instruction).
    @inline(__always) static func fixed(_ v: Float, _ scale: Double) -> Int64 {
        let t = Double(v) * scale + magic
        return Int64(bitPattern: t.bitPattern) &- magicBits
    }

    /// y[i] = fp32(sums[i] · 2^-exponent / divisor); |sums[i]| < 2^51, so the first step is exact.
    public static func decode(
        _ sums: UnsafePointer<Int64>, _ n: Int, exponent: Int, divisor: Int, into y: UnsafeMutablePointer<Float>
    ) {
        let factor = Double(sign: .plus, exponent: -exponent, significand: 1) / Double(divisor)
        for i in 0..<n {
            let exact = Double(bitPattern: UInt64(bitPattern: sums[i] &+ magicBits)) - magic
            y[i] = Float(exact * factor)
        }
    }
}
