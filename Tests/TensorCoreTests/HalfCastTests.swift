import Foundation
import Testing
import TensorCore

/// fp16 and bf16 casts against an independent reference: round to nearest even at the
/// format's precision, gradual underflow through its subnormals, overflow to infinity.
@Suite("16-bit casts")
struct HalfCastTests {
    /// `x` rounded to a binary format with `mantissa` fraction bits, smallest normal exponent
    /// `minExponent` and largest finite value `maxFinite`, computed in Double.
    static func reference(_ x: Float, mantissa: Int, minExponent: Int, maxFinite: Double) -> Double {
        let v = Double(x)
        if v == 0 || !v.isFinite { return v }
        let e = max(Int(floor(log2(Swift.abs(v)))), minExponent)
        let quantum = pow(2.0, Double(e - mantissa))
        let r = (v / quantum).rounded(.toNearestOrEven) * quantum
        // Values at or beyond half an ulp above the largest finite number overflow.
        let limit = maxFinite + pow(2.0, Double(Int(log2(maxFinite)) - mantissa)) / 2
        return Swift.abs(v) >= limit ? (v > 0 ? .infinity : -.infinity) : r
    }

    /// Random bit patterns across every exponent (normals, subnormals, both signs), plus the
    /// edges, through the vectorised array path.
    static func samples() -> [Float] {
        var out: [Float] = [Float.leastNonzeroMagnitude, -Float.leastNormalMagnitude, 65504, 65519.99, 65520, 5.96e-8, 2.98e-8,
                            2.99e-8, 6.1e-5, 3.3895e38, 3.3961e38, Float.greatestFiniteMagnitude, -0.0]
        for i in 0..<50_000 {
            let bits = PhiloxRNG.block(seed: 5, counter: UInt64(i))[0]
            let f = Float(bitPattern: bits)
            if f.isFinite { out.append(f) }
        }
        return out
    }

    @Test func float16RoundsToNearestEvenWithSubnormalsAndOverflow() {
        let xs = Self.samples()
        let got = NDArray(xs, shape: [xs.count]).converted(to: .float16).converted(to: .float32).scalars
        for (x, g) in zip(xs, got) {
            let want = Self.reference(x, mantissa: 10, minExponent: -14, maxFinite: 65504)
            #expect(Double(g) == want || (g == 0 && want == 0), "fp16(\(x)) = \(g), want \(want)")
        }
        // Every one of the 65536 fp16 bit patterns widens and narrows back to itself (NaN to a NaN).
        for h in 0...UInt16.max {
            let f = HalfCast.float(float16: h)
            if f.isNaN { #expect(HalfCast.float(float16: HalfCast.float16Bits(f)).isNaN) } else { #expect(HalfCast.float16Bits(f) == h) }
        }
    }

    @Test func bfloat16RoundsToNearestEvenWithSubnormalsAndOverflow() {
        let xs = Self.samples()
        let got = NDArray(xs, shape: [xs.count]).converted(to: .bfloat16).converted(to: .float32).scalars
        for (x, g) in zip(xs, got) {
            let want = Self.reference(x, mantissa: 7, minExponent: -126, maxFinite: 3.3895313892515355e38)
            #expect(Double(g) == want || (g == 0 && want == 0), "bf16(\(x)) = \(g), want \(want)")
        }
        for h in 0...UInt16.max {
            let f = HalfCast.float(bfloat16: h)
            if f.isNaN { #expect(HalfCast.float(bfloat16: HalfCast.bfloat16Bits(f)).isNaN) } else { #expect(HalfCast.bfloat16Bits(f) == h) }
        }
        // Signalling or quiet, a NaN stays a NaN (never rounds into infinity).
        #expect(HalfCast.float(bfloat16: HalfCast.bfloat16Bits(Float(bitPattern: 0x7F80_0001))).isNaN)
    }
}
