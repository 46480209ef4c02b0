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
        var out: [Float] = [
            Float.leastNonzeroMagnitude, -Float.leastNormalMagnitude, 65504, 65519.99, 65520, 5.96e-8, 2.98e-8,
            2.99e-8, 6.1e-5, 3.3895e38, 3.3961e38, Float.greatestFiniteMagnitude, -0.0,
        ]
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
            if f.isNaN {
                #expect(HalfCast.float(float16: HalfCast.float16Bits(f)).isNaN)
            } else {
                #expect(HalfCast.float16Bits(f) == h)
            }
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
            if f.isNaN {
                #expect(HalfCast.float(bfloat16: HalfCast.bfloat16Bits(f)).isNaN)
            } else {
                #expect(HalfCast.bfloat16Bits(f) == h)
            }
        }
        // Signalling or quiet, a NaN stays a NaN (never rounds into infinity).
        #expect(HalfCast.float(bfloat16: HalfCast.bfloat16Bits(Float(bitPattern: 0x7F80_0001))).isNaN)
    }

    /// The block casts (eight lanes in registers, then a scalar tail) agree bit for bit with the
    /// scalar casts at every length from 0 to 40, including NaN, infinities and subnormals.
    @Test(arguments: [DType.float16, .bfloat16])
    func blockCastsMatchTheScalarCastsAtEveryLength(dtype: DType) {
        let specials: [Float] = [
            .nan, Float(bitPattern: 0x7F80_0001), .infinity, -.infinity, 1e-45, -3e-8, 6e-8, 65520, -65504, 0, -0.0,
        ]
        var pool = specials + Self.samples().prefix(200)
        pool += pool.map { $0 * 0.75 }
        func scalar(_ f: Float) -> UInt16 { dtype == .float16 ? HalfCast.float16Bits(f) : HalfCast.bfloat16Bits(f) }
        func widened(_ h: UInt16) -> Float {
            dtype == .float16 ? HalfCast.float(float16: h) : HalfCast.float(bfloat16: h)
        }
        for n in 0...40 {
            let src = (0..<n).map { pool[($0 * 37 + n * 11) % pool.count] }
            var bits = [UInt16](repeating: 0, count: n), back = [Float](repeating: 0, count: n)
            src.withUnsafeBufferPointer { s in
                bits.withUnsafeMutableBufferPointer { HalfCast.narrowBlock(s.baseAddress!, $0.baseAddress!, n, dtype) }
            }
            bits.withUnsafeBufferPointer { b in
                back.withUnsafeMutableBufferPointer { HalfCast.widenBlock(b.baseAddress!, $0.baseAddress!, n, dtype) }
            }
            for i in 0..<n {
                let want = scalar(src[i])
                if src[i].isNaN {
                    #expect(widened(bits[i]).isNaN && back[i].isNaN, "\(dtype) NaN at \(i) of \(n)")
                } else {
                    #expect(bits[i] == want, "\(dtype) narrow(\(src[i])) at \(i) of \(n): \(bits[i]), want \(want)")
                    #expect(back[i].bitPattern == widened(want).bitPattern, "\(dtype) widen at \(i) of \(n)")
                }
            }
        }
    }

    /// The 16-bit wire's sum adds each pair in fp32 and rounds once, the same in the block's
    /// eight lanes as one at a time: at every length from 0 to 40, with NaN, infinities,
    /// overflow to infinity and subnormals among the values.
    @Test(arguments: [DType.float16, .bfloat16])
    func blockSumsMatchScalarSums(dtype: DType) {
        let specials: [Float] = [.nan, .infinity, -.infinity, 1e-45, -3e-8, 6e-8, 65504, 60000, -0.0, 3.3e38]
        let pool = (specials + Self.samples().prefix(300)).map { HalfCast.bits($0, dtype) }
        for n in 0...40 {
            let a = (0..<n).map { pool[($0 * 37 + n * 11) % pool.count] },
                b0 = (0..<n).map { pool[($0 * 53 + n * 7 + 5) % pool.count] }
            var b = b0
            a.withUnsafeBufferPointer { a in
                b.withUnsafeMutableBufferPointer { HalfCast.addBlock(a.baseAddress!, $0.baseAddress!, n, dtype) }
            }
            for i in 0..<n {
                let want = HalfCast.float(a[i], dtype) + HalfCast.float(b0[i], dtype)
                if want.isNaN {
                    #expect(HalfCast.float(b[i], dtype).isNaN, "\(dtype) sum \(i) of \(n) should be NaN")
                } else {
                    #expect(
                        b[i] == HalfCast.bits(want, dtype),
                        "\(dtype) sum \(i) of \(n): \(b[i]), want \(HalfCast.bits(want, dtype))")
                }
            }
        }
    }
}
