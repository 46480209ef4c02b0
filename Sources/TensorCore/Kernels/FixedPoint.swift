/// 64-bit fixed-point encoding of fp32 values, for sums that must not depend on their order.
///
/// With one exponent shared by every term, integer addition is exact and associative, so a
/// sum over ranks and micro-shards gives the same bits however it is split and ordered
/// (deterministic mode). The exponent leaves enough headroom that `terms` values cannot overflow.
public enum FixedPoint {
    /// The exponent e for values of magnitude at most `largest` summed `terms` at a time:
    /// |v| · 2^e < 2^(62 - ceil(log2 terms)), so the sum stays below 2^62.
    public static func exponent(largest: Double, terms: Int) -> Int {
        guard largest > 0, largest.isFinite else { return 0 }
        let headroom = Int.bitWidth - (max(terms, 1) - 1).leadingZeroBitCount
        return (62 - headroom) - largest.exponent - 1
    }

    /// The largest |x[i]|, or NaN when any value is NaN (infinity when one is infinite).
    public static func maxMagnitude(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var m: Float = 0, nan = false
        for i in 0..<n {
            let a = abs(x[i])
            nan = nan || a.isNaN
            m = a > m ? a : m
        }
        return nan ? .nan : m
    }

    /// sums[i] += round(x[i] · 2^exponent), rounding half to even; |x[i]| must fit the exponent.
    public static func accumulate(_ x: UnsafePointer<Float>, _ n: Int, exponent: Int, into sums: UnsafeMutablePointer<Int64>) {
        let scale = Double(sign: .plus, exponent: exponent, significand: 1)
        for i in 0..<n { sums[i] &+= Int64((Double(x[i]) * scale).rounded(.toNearestOrEven)) }
    }

    /// y[i] = fp32(sums[i] · 2^-exponent / divisor): one rounding to Double, one to fp32.
    public static func decode(_ sums: UnsafePointer<Int64>, _ n: Int, exponent: Int, divisor: Int, into y: UnsafeMutablePointer<Float>) {
        let factor = Double(sign: .plus, exponent: -exponent, significand: 1) / Double(divisor)
        for i in 0..<n { y[i] = Float(Double(sums[i]) * factor) }
    }
}
