import TensorCore
import Testing

@Suite("Int8 kernels against naive references")
struct Int8KernelTests {
    /// Random bytes in 0...top and int8 weights in -127...127.
    static func operands(m: Int, n: Int, k: Int, lda: Int, seed: UInt64) -> (a: [UInt8], w: [Int8]) {
        var rand = Rand(seed)
        let a = (0..<m * lda).map { _ in UInt8(rand.int(0...127)) }
        let w = (0..<n * k).map { _ in Int8(rand.int(-127...127)) }
        return (a, w)
    }

    @Test(arguments: [
        (1, 1, 1), (4, 16, 4), (5, 17, 7), (3, 33, 25), (64, 120, 400), (37, 10, 84), (130, 6, 150), (9, 48, 3),
    ])
    func gemmMatchesNaive(m: Int, n: Int, k: Int) {
        let paddedK = (k + 3) / 4 * 4, lda = paddedK + (m % 2) * 4  // some rows longer than needed
        let (a, w) = Self.operands(m: m, n: n, k: k, lda: lda, seed: UInt64(m * 1000 + n * 10 + k))
        let packed = Int8GEMM.pack(w, n: n, k: k)
        #expect(packed.paddedK == paddedK)
        var c = [Int32](repeating: -1, count: m * n)
        a.withUnsafeBufferPointer { pa in
            c.withUnsafeMutableBufferPointer {
                Int8GEMM.gemm(m: m, a: pa.baseAddress!, lda: lda, w: packed, c: $0.baseAddress!)
            }
        }
        var wrong = 0
        for i in 0..<m {
            for j in 0..<n {
                let expected = (0..<k).reduce(Int32(0)) { $0 + Int32(a[i * lda + $1]) * Int32(w[j * k + $1]) }
                if c[i * n + j] != expected { wrong += 1 }
            }
        }
        #expect(wrong == 0, "\(wrong) of \(m * n) sums differ for \(m) x \(n) x \(k)")
        #expect(packed.columnSums == (0..<n).map { j in (0..<k).reduce(Int32(0)) { $0 + Int32(w[j * k + $1]) } })
    }

    @Test func largestValuesDoNotSaturate() {
        // Every pair at 127 · ±127: the int16 pair sums are 32258, the most vpmaddubsw meets.
        let (m, n, k) = (4, 16, 64)
        let a = [UInt8](repeating: 127, count: m * k),
            w = (0..<n * k).map { Int8($0 % 2 == 0 ? 127 : -127) * ($0 / k % 2 == 0 ? 1 : -1) }
        var c = [Int32](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { pa in
            c.withUnsafeMutableBufferPointer {
                Int8GEMM.gemm(m: m, a: pa.baseAddress!, lda: k, w: Int8GEMM.pack(w, n: n, k: k), c: $0.baseAddress!)
            }
        }
        let allPositive = [Int8](repeating: 127, count: n * k)
        var d = [Int32](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { pa in
            d.withUnsafeMutableBufferPointer {
                Int8GEMM.gemm(
                    m: m, a: pa.baseAddress!, lda: k, w: Int8GEMM.pack(allPositive, n: n, k: k), c: $0.baseAddress!)
            }
        }
        #expect(c.allSatisfy { $0 == 0 })
        #expect(d.allSatisfy { $0 == 127 * 127 * Int32(k) })
    }

    @Test func weightsRoundPerRowAndActivationsCoverZero() {
        let w: [Float] = [0.5, -1.0, 0.25, 0, 0, 0, 2, 1, -0.999]
        let (q, scales) = Quantize.weightsPerRow(w, n: 3, k: 3)
        #expect(scales == [1 / 127, 1, 2 / 127])
        #expect(q == [64, -127, 32, 0, 0, 0, 127, 64, -63])  // 63.5 rounds away from zero to 64
        let (scale, zero) = Quantize.activationParameters(low: 0.5, high: 2.54)
        #expect(abs(scale - 0.02) < 1e-7 && zero == 0)  // the range is widened to include 0
        let (s2, z2) = Quantize.activationParameters(low: -1, high: 3)
        #expect(abs(s2 - 4 / 127) < 1e-7 && z2 == 32)
        var bytes = [UInt8](repeating: 0, count: 4)
        Quantize.activations([-1, 0, 3, 100], &bytes, count: 4, scale: s2, zeroPoint: z2)
        #expect(bytes == [0, 32, 127, 127])
    }

    @Test(arguments: [(2, 3, 7, 6, 3, 1, 1), (1, 5, 9, 9, 5, 2, 2), (3, 1, 28, 28, 5, 1, 2), (2, 4, 6, 5, 2, 2, 0)])
    func im2colAndPoolingMatchNaive(n: Int, c: Int, h: Int, w: Int, kernel: Int, stride: Int, padding: Int) {
        var rand = Rand(UInt64(n * 7 + c * 5 + h))
        let x = (0..<n * h * w * c).map { _ in UInt8(rand.int(0...127)) }
        let g = Conv2DGeometry(kernel: (kernel, kernel), stride: (stride, stride), padding: (padding, padding))
        let (oh, ow) = g.outputSize(h: h, w: w)
        let k = kernel * kernel * c, lda = (k + 3) / 4 * 4, zero: Int32 = 9
        var cols = [UInt8](repeating: 255, count: n * oh * ow * lda)
        Quantize.im2colNHWC(x, &cols, n: n, c: c, h: h, w: w, geometry: g, lda: lda, zeroPoint: zero)
        var pooled = [UInt8](repeating: 255, count: n * oh * ow * c)
        Quantize.maxPoolNHWC(x, &pooled, n: n, c: c, h: h, w: w, geometry: g)
        var badCols = 0, badPool = 0
        for b in 0..<n {
            for y in 0..<oh {
                for xo in 0..<ow {
                    let row = (b * oh + y) * ow + xo
                    var best = [UInt8](repeating: 0, count: c)
                    for ky in 0..<kernel {
                        for kx in 0..<kernel {
                            let iy = y * stride - padding + ky, ix = xo * stride - padding + kx
                            let inside = iy >= 0 && iy < h && ix >= 0 && ix < w
                            for ch in 0..<c {
                                let v = inside ? x[((b * h + iy) * w + ix) * c + ch] : UInt8(zero)
                                if cols[row * lda + (ky * kernel + kx) * c + ch] != v { badCols += 1 }
                                if inside { best[ch] = max(best[ch], v) }
                            }
                        }
                    }
                    if cols[(row * lda + k)..<(row * lda + lda)].contains(where: { $0 != 0 }) { badCols += 1 }
                    if Array(pooled[(row * c)..<(row * c + c)]) != best { badPool += 1 }
                }
            }
        }
        #expect(badCols == 0 && badPool == 0, "im2col: \(badCols) wrong, max pool: \(badPool) wrong")
    }

    @Test func requantizeAppliesZeroPointsBiasAndReLU() {
        // 40 rows of two columns (a period of 32 rows, then a partial one) of a layer whose input zero point is 3.
        let c = (0..<40).flatMap { [Int32(100 + $0), Int32(-50 - $0)] }, sums: [Int32] = [10, -4]
        let r = Requantization(
            n: 2, inputZeroPoint: 3, columnSums: sums, multiplier: [0.5, 0.5], offset: [2, 2], outputZeroPoint: 2,
            relu: true)
        var out = [UInt8](repeating: 0, count: 80)
        Quantize.requantize(c, &out, m: 40, with: r)
        // (100 + i - 30)·0.5 + 2, ties to even, at most 127; (-50 - i + 12)·0.5 + 2 < 2 -> the zero point 2 by ReLU.
        #expect(
            out == (0..<40).flatMap { i in [UInt8(min(127, (Double(70 + i) * 0.5 + 2).rounded(.toNearestOrEven))), 2] })
        let first = Array(c.prefix(2))
        var logits = [Float](repeating: 0, count: 2)
        Quantize.dequantize(
            first, &logits, m: 1, n: 2, inputZeroPoint: 3, columnSums: sums, multiplier: [0.1, 0.2], bias: [1, -1])
        #expect(abs(logits[0] - 8) < 1e-5 && abs(logits[1] - (-8.6)) < 1e-5)
    }

    /// The blocked convolution equals im2col, the GEMM and the requantization one after another.
    @Test(arguments: [(2, 1, 28, 28, 6, 5, 2), (3, 6, 14, 14, 16, 5, 0), (1, 3, 9, 7, 5, 3, 1)])
    func blockedConvolutionMatchesItsSteps(n: Int, c: Int, h: Int, w: Int, oc: Int, kernel: Int, padding: Int) {
        var rand = Rand(UInt64(n * 31 + c * 7 + oc))
        let x = (0..<n * h * w * c).map { _ in UInt8(rand.int(0...127)) }
        let k = kernel * kernel * c, weights = (0..<oc * k).map { _ in Int8(rand.int(-127...127)) }
        let packed = Int8GEMM.pack(weights, n: oc, k: k)
        let g = Conv2DGeometry(kernel: (kernel, kernel), padding: (padding, padding))
        let (oh, ow) = g.outputSize(h: h, w: w), rows = n * oh * ow
        let r = Requantization(
            n: oc, inputZeroPoint: 5, columnSums: packed.columnSums, multiplier: (0..<oc).map { 0.001 * Float($0 + 1) },
            offset: (0..<oc).map { Float($0) }, outputZeroPoint: 4, relu: true)
        var blocked = [UInt8](repeating: 0, count: rows * oc)
        Int8Convolution.forward(
            x, n: n, c: c, h: h, w: w, geometry: g, weights: packed, inputZeroPoint: 5, requantization: r, out: &blocked
        )
        var patches = [UInt8](repeating: 0, count: rows * packed.paddedK),
            sums = [Int32](repeating: 0, count: rows * oc)
        var stepwise = [UInt8](repeating: 0, count: rows * oc)
        Quantize.im2colNHWC(x, &patches, n: n, c: c, h: h, w: w, geometry: g, lda: packed.paddedK, zeroPoint: 5)
        patches.withUnsafeBufferPointer { a in
            sums.withUnsafeMutableBufferPointer {
                Int8GEMM.gemm(m: rows, a: a.baseAddress!, lda: packed.paddedK, w: packed, c: $0.baseAddress!)
            }
        }
        Quantize.requantize(sums, &stepwise, m: rows, with: r)
        #expect(blocked == stepwise)
        #expect(Set(stepwise).count > 10, "the test data should spread over many levels")
    }
}
