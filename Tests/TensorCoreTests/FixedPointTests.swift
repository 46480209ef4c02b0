import Foundation
import TensorCore
import Testing

@Suite("Fixed-point sums against naive references")
struct FixedPointTests {
    /// `terms` random shards of `n` values spread over 2^-20 .. 2^3, with signs.
    static func shards(_ terms: Int, _ n: Int, seed: UInt64) -> [[Float]] {
        var rand = Rand(seed)
        return (0..<terms).map { _ in
            let a = rand.array([n]).scalars, e = rand.array([n], low: -20, high: 3).scalars
            return zip(a, e).map { $0 * Float(pow(2, Double($1).rounded())) }
        }
    }

    /// Encodes every shard with the exponent their largest value gives, adds, decodes the mean.
    static func mean(_ shards: [[Float]]) -> [Float] {
        let n = shards[0].count
        let largest = shards.map { s in
            s.withUnsafeBufferPointer { p in
                var copy = Array(p), scratch = [Float](repeating: 0, count: n)
                return Double(FixedPoint.move(&copy, to: &scratch, n))
            }
        }.max()!
        let e = FixedPoint.exponent(largest: largest, terms: shards.count)
        // The first shard writes the sums (over garbage, to show it does not add), the rest add.
        var sums = [Int64](repeating: 12345, count: n), out = [Float](repeating: 0, count: n)
        FixedPoint.encode(shards[0], n, exponent: e, into: &sums)
        for s in shards.dropFirst() { FixedPoint.accumulate(s, n, exponent: e, into: &sums) }
        FixedPoint.decode(sums, n, exponent: e, divisor: shards.count, into: &out)
        return out
    }

    @Test(arguments: [(1, 1), (3, 7), (12, 33), (24, 1000), (5, 8)])
    func theMeanMatchesDoubleAndDoesNotDependOnTheOrder(terms: Int, n: Int) {
        let shards = Self.shards(terms, n, seed: UInt64(terms * 1000 + n))
        let got = Self.mean(shards)
        // Any order of the shards gives the same bits.
        #expect(Self.mean(shards.reversed()) == got)
        #expect(Self.mean(shards.shuffled()) == got)
        // And the value is the exact mean up to fp32 rounding, plus 2^-46 of the largest.
        let largest = shards.flatMap { $0 }.map { abs(Double($0)) }.max()!
        for i in 0..<n {
            let exact = shards.reduce(0.0) { $0 + Double($1[i]) } / Double(terms)
            #expect(
                abs(Double(got[i]) - exact) <= abs(exact) * 0x1p-24 + largest * 0x1p-45,
                "value \(i): \(got[i]) vs \(exact)")
        }
    }

    @Test func rowsRoundHalfToEvenAsDoubleDoes() {
        // Against a naive reference: Double's own rounding, on ties and odd sizes.
        let x: [Float] = [0.5, 1.5, 2.5, -0.5, -1.5, 3.25, -7.75, 1e-3, 0, 123456.5, -2.5]
        var sums = [Int64](repeating: 0, count: x.count)
        FixedPoint.accumulate(x, x.count, exponent: 0, into: &sums)
        #expect(sums == x.map { Int64(Double($0).rounded(.toNearestOrEven)) })
        var encoded = [Int64](repeating: -9, count: x.count)
        FixedPoint.encode(x, x.count, exponent: 0, into: &encoded)
        #expect(encoded == sums)
        var back = [Float](repeating: 0, count: x.count)
        FixedPoint.decode(sums, x.count, exponent: 0, divisor: 1, into: &back)
        #expect(back == sums.map { Float($0) })
    }

    @Test func moveAndLargestMagnitudeFlagNonFiniteValues() {
        for n in [1, 7, 8, 9, 31] {
            var rand = Rand(UInt64(n))
            var src = rand.array([n]).scalars, dst = [Float](repeating: 9, count: n)
            let copy = src
            let m = FixedPoint.move(&src, to: &dst, n)
            #expect(dst == copy && src.allSatisfy { $0 == 0 })
            #expect(m == copy.map { abs($0) }.max()!)
            #expect(FixedPoint.largestMagnitude(copy, n) == m)
            for bad in [Float.nan, .infinity, -.infinity] {
                var s = copy
                s[n / 2] = bad
                #expect(FixedPoint.largestMagnitude(s, n).isNaN, "n \(n) with \(bad)")
                #expect(FixedPoint.move(&s, to: &dst, n).isNaN, "n \(n) with \(bad)")
            }
        }
    }

    @Test func theExponentLeavesRoomForEveryTerm() {
        for terms in [1, 2, 3, 12, 24, 1000] {
            for largest in [1e-30, 0.75, 1.0, 3e5] {
                let e = FixedPoint.exponent(largest: largest, terms: terms)
                let top = largest * pow(2, Double(e))
                #expect(
                    top < 0x1p51 / Double(terms) && top >= 0x1p49 / Double(terms).nextPow2,
                    "\(terms) terms of \(largest)")
            }
        }
    }
}

private extension Double {
    /// The smallest power of two at least this large.
    var nextPow2: Double { pow(2, Foundation.ceil(Foundation.log2(self))) }
}
