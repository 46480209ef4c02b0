import TensorCore
import Testing

/// C = alpha·op(A)·op(B) + beta·C in Double, the obvious triple loop.
func naiveGemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double, a: [Float], b: [Float],
    beta: Double, c: [Float]
) -> [Double] {
    var out = [Double](repeating: 0, count: m * n)
    // Operands in Double, row-major (M, K) and (K, N), so the loop below stays simple.
    let ad = (0..<(m * k)).map { idx in Double(transA ? a[(idx % k) * m + idx / k] : a[idx]) }
    let bd = (0..<(k * n)).map { idx in Double(transB ? b[(idx % n) * k + idx / n] : b[idx]) }
    for i in 0..<m {
        for j in 0..<n {
            var s = 0.0
            for p in 0..<k { s += ad[i * k + p] * bd[p * n + j] }
            out[i * n + j] = alpha * s + (beta == 0 ? 0 : beta * Double(c[i * n + j]))
        }
    }
    return out
}

@Suite("GEMM against a naive reference", .serialized)
struct GEMMTests {
    /// Shapes around every blocking edge: the 6x16 micro-tile, KC = 256, MC = 144, and odd sizes.
    static let shapes: [(Int, Int, Int)] = [
        (1, 1, 1), (1, 17, 3), (5, 1, 9), (6, 16, 1), (7, 17, 13), (13, 31, 29), (64, 64, 64),
        (37, 53, 300), (150, 20, 257), (145, 33, 70), (200, 130, 520), (3, 700, 11), (301, 7, 5),
        // Depth blocks of unequal size (784 -> 262, 262, 260) with threads splitting columns,
        // which pack their own panels and never wait for each other: a panel layout that
        // depended on the block depth let one thread overwrite another's panel.
        (64, 256, 784), (20, 600, 784),
        // Row edges of 1-3 rows take the short 3 x 32 tile two full panels at a time, leaving an
        // odd or partial last panel to the 6x16 one: a batch of 32 rows, and C of 2 rows.
        (32, 80, 37), (2, 96, 40), (9, 40, 17),
    ]

    /// Runs on one thread and on the whole pool (two threads on the CI machine); with
    /// threads, each product is repeated to give races a chance to show.
    @Test(arguments: [1, 2])
    func everyTransposeAndShape(threads: Int) {
        var r = Rand(11)
        for (m, n, k) in Self.shapes {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let a = r.array([m * k]), b = r.array([k * n]), c = r.array([m * n])
                let ref = naiveGemm(
                    transA: ta, transB: tb, m: m, n: n, k: k, alpha: 1, a: a.scalars, b: b.scalars, beta: 0, c: [])
                for _ in 0..<(threads > 1 ? 5 : 1) {
                    GEMM.sgemm(
                        transA: ta, transB: tb, m: m, n: n, k: k, alpha: 1, a: a.ptr, lda: ta ? m : k,
                        b: b.ptr, ldb: tb ? k : n, beta: 0, c: c.ptr, ldc: n, threads: threads)
                    expectClose(
                        c, ref, tol: 1e-5 * Double(max(k, 1)).squareRoot(),
                        "gemm \(m)x\(n)x\(k) tA=\(ta) tB=\(tb) threads=\(threads)")
                }
            }
        }
    }

    /// A B packed once gives the products of the unpacked GEMM, used again and again, on every
    /// shape (several depth blocks, a partial last panel, C wider than one column block),
    /// with a strided A, beta 1 and threads.
    @Test(arguments: [1, 2])
    func packedBMatchesTheReference(threads: Int) {
        var r = Rand(17)
        for (m, n, k) in Self.shapes + [(5, 4100, 9)] {
            for (ta, tb) in [(false, false), (true, true), (false, true)] {
                let a = r.array([m * k + 3]), b = r.array([k * n]), c = r.array([m * n])
                let packed = GEMMPackedB(transB: tb, k: k, n: n, b: GEMMOperand(b.ptr, ld: tb ? k : n))
                // A starts 3 floats into its buffer, off the alignment of a fresh array.
                let lda = ta ? m : k, aStart = a.ptr + 3
                let aValues = Array(a.scalars[3...])
                for beta: Float in [0, 1] {
                    let before = c.scalars
                    let ref = naiveGemm(
                        transA: ta, transB: tb, m: m, n: n, k: k, alpha: 1, a: aValues, b: b.scalars,
                        beta: Double(beta), c: before)
                    for _ in 0..<(threads > 1 ? 3 : 1) {
                        c.ptr.update(from: before, count: before.count)
                        GEMM.sgemm(
                            transA: ta, m: m, a: aStart, lda: lda, packedB: packed, beta: beta, c: c.ptr, ldc: n,
                            threads: threads)
                        expectClose(
                            c, ref, tol: 1e-5 * Double(max(k, 1)).squareRoot(),
                            "packed B \(m)x\(n)x\(k) tA=\(ta) tB=\(tb) beta=\(beta) threads=\(threads)")
                    }
                }
            }
        }
    }

    @Test func alphaBetaAndLeadingDimensions() {
        var r = Rand(12)
        let (m, n, k) = (23, 35, 41)
        // transA packs A step by step across its panels (alpha 1 on a fast path, others scaled).
        for (alpha, beta) in [(Float(1), Float(1)), (0.5, 0), (-2, 0.25), (0, 3)] {
            for transA in [false, true] {
                // C is a 23x35 window of a 23x40 buffer: ldc > n must leave the rest untouched.
                let a = r.array([m * k]), b = r.array([k * n]), c = r.array([m * 40])
                let before = c.scalars
                GEMM.sgemm(
                    transA: transA, transB: false, m: m, n: n, k: k, alpha: alpha, a: a.ptr, lda: transA ? m : k,
                    b: b.ptr, ldb: n, beta: beta, c: c.ptr, ldc: 40)
                let window = (0..<m).flatMap { i in (0..<n).map { before[i * 40 + $0] } }
                let ref = naiveGemm(
                    transA: transA, transB: false, m: m, n: n, k: k, alpha: Double(alpha), a: a.scalars,
                    b: b.scalars, beta: Double(beta), c: window)
                let got = (0..<m).flatMap { i in (0..<n).map { c.scalars[i * 40 + $0] } }
                #expect(maxRelativeError(got, ref) < 1e-4, "alpha \(alpha) beta \(beta) transA \(transA)")
                for i in 0..<m { for j in n..<40 { #expect(c.scalars[i * 40 + j] == before[i * 40 + j]) } }
            }
        }
    }

    @Test func batchedMatchesLoop() {
        var r = Rand(13)
        for (batch, m, n, k) in [(5, 7, 9, 11), (3, 64, 48, 32), (8, 1, 5, 3)] {
            let a = r.array([batch, m, k]), b = r.array([batch, k, n])
            let c = MatMul.forward(a, b)
            var ref: [Double] = []
            for i in 0..<batch {
                ref += naiveGemm(
                    transA: false, transB: false, m: m, n: n, k: k, alpha: 1,
                    a: Array(a.scalars[(i * m * k)..<((i + 1) * m * k)]),
                    b: Array(b.scalars[(i * k * n)..<((i + 1) * k * n)]), beta: 0, c: [])
            }
            expectClose(c, ref, tol: 1e-5, "batched \(batch)x\(m)x\(n)x\(k)")
            // A 2-D right operand is shared by the whole batch.
            let shared = r.array([k, n])
            let c2 = MatMul.forward(a, shared)
            let ref2 = naiveGemm(
                transA: false, transB: false, m: batch * m, n: n, k: k, alpha: 1, a: a.scalars,
                b: shared.scalars, beta: 0, c: [])
            expectClose(c2, ref2, tol: 1e-5, "shared b")
        }
    }

    /// 16-bit operands are widened while packed: the product equals the fp32 GEMM of the
    /// widened values, against the naive reference, for every transpose, shape and 16-bit
    /// combination (both, A only, B only), alpha included.
    @Test(arguments: [DType.float16, .bfloat16])
    func halfOperandsMatchTheirWidenedValues(dtype: DType) {
        var r = Rand(14)
        // The shapes below a few million multiply-adds: every edge case, without the naive
        // reference dominating the suite's time.
        for (m, n, k) in Self.shapes where m * n * k < 3_000_000 {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let a16 = r.array([m * k]).converted(to: dtype), b16 = r.array([k * n]).converted(to: dtype)
                let a32 = a16.float32, b32 = b16.float32
                let ref = naiveGemm(
                    transA: ta, transB: tb, m: m, n: n, k: k, alpha: 0.5, a: a32.scalars, b: b32.scalars, beta: 0, c: []
                )
                for (ah, bh) in [(true, true), (true, false), (false, true)] {
                    let a = ah ? a16 : a32, b = bh ? b16 : b32
                    let c = NDArray(shape: [m * n], zeroed: false)
                    GEMM.gemm(
                        transA: ta, transB: tb, m: m, n: n, k: k, alpha: 0.5,
                        a: GEMMOperand(raw: a.storage.raw, dtype: a.dtype, ld: ta ? m : k),
                        b: GEMMOperand(raw: b.storage.raw, dtype: b.dtype, ld: tb ? k : n), c: c.ptr, ldc: n)
                    expectClose(
                        c, ref, tol: 1e-5 * Double(max(k, 1)).squareRoot(),
                        "\(dtype) gemm \(m)x\(n)x\(k) tA=\(ta) tB=\(tb) half A \(ah) half B \(bh)")
                }
            }
        }
        // Through MatMul, batched, with a shared 2-D right operand.
        let a = r.array([3, 7, 9]).converted(to: dtype), b = r.array([9, 5]).converted(to: dtype)
        expectClose(
            MatMul.forward(a, b),
            naiveGemm(
                transA: false, transB: false, m: 21, n: 5, k: 9, alpha: 1,
                a: a.float32.scalars, b: b.float32.scalars, beta: 0, c: []), tol: 1e-5, "matmul")
    }

    /// An fp32 operand read with `rounding` gives bit for bit the product of its 16-bit copy:
    /// every packing path rounds it (transposed or not, A or B, full panels and edges, shapes
    /// that fp32 would read in place), on one thread and two. The values include ones fp16
    /// overflows (to inf) and flushes to subnormals, and a NaN.
    @Test(arguments: [DType.float16, .bfloat16])
    func roundedOperandsGiveTheProductOfTheir16BitCopies(dtype: DType) {
        var r = Rand(15)
        for threads in [1, 2] {
            for (m, n, k) in Self.shapes + [(24, 40, 33), (9, 64, 100), (100, 48, 17)] where m * n * k < 3_000_000 {
                for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                    let a32 = r.array([m * k]), b32 = r.array([k * n], low: -3, high: 3)
                    let specials: [Float] = [70000, -1e-6, 3e-8, .nan, 65519, 1.00048828125]
                    for (i, v) in specials.enumerated() where i < m * k { a32.ptr[(i * 7919) % (m * k)] = v }
                    let a16 = a32.converted(to: dtype), b16 = b32.converted(to: dtype)
                    func product(_ a: GEMMOperand, _ b: GEMMOperand) -> [UInt32] {
                        let c = NDArray(shape: [m * n], zeroed: false)
                        GEMM.gemm(
                            transA: ta, transB: tb, m: m, n: n, k: k, alpha: 0.5, a: a, b: b, c: c.ptr, ldc: n,
                            threads: threads)
                        // Every NaN as one pattern: a NaN's payload is not part of the rounding.
                        return c.scalars.map { $0.isNaN ? Float.nan.bitPattern : $0.bitPattern }
                    }
                    let (lda, ldb) = (ta ? m : k, tb ? k : n)
                    let want = product(
                        GEMMOperand(raw: a16.storage.raw, dtype: dtype, ld: lda),
                        GEMMOperand(raw: b16.storage.raw, dtype: dtype, ld: ldb))
                    let got = product(
                        GEMMOperand(raw: a32.storage.raw, dtype: .float32, ld: lda, rounding: dtype),
                        GEMMOperand(raw: b32.storage.raw, dtype: .float32, ld: ldb, rounding: dtype))
                    let mismatches = zip(got, want).filter { $0 != $1 }.count
                    #expect(
                        mismatches == 0,
                        "\(dtype) \(m)x\(n)x\(k) tA=\(ta) tB=\(tb) threads \(threads): \(mismatches) differ")
                }
            }
        }
    }

    /// An fp32 C with a bias gets it once on every row, on every tile path (in place A or B,
    /// packed, the 6x16 edge, the short 3 x 32 tile) and several depth blocks, with beta 0 and
    /// 1, on 1 and 2 threads; with k = 0 or alpha = 0, C is beta · C plus the bias.
    @Test(arguments: [1, 2])
    func fp32BiasIsAddedOnce(threads: Int) {
        var r = Rand(23)
        for (m, n, k) in Self.shapes + [(4, 5, 0)] {
            for (ta, tb) in [(false, false), (true, false), (false, true)] {
                let a = r.array([max(m * k, 1)]), b = r.array([max(k * n, 1)]), c = r.array([m * n]),
                    bias = r.array([n])
                let before = c.scalars
                for (alpha, beta) in [(Float(1), Float(0)), (1, 1), (0, 1)] {
                    let product = naiveGemm(
                        transA: ta, transB: tb, m: m, n: n, k: k, alpha: Double(alpha), a: a.scalars,
                        b: b.scalars, beta: Double(beta), c: before)
                    let ref = product.enumerated().map { $0.element + Double(bias.scalars[$0.offset % n]) }
                    c.ptr.update(from: before, count: before.count)
                    GEMM.gemm(
                        transA: ta, transB: tb, m: m, n: n, k: k, alpha: alpha,
                        a: GEMMOperand(a.ptr, ld: ta ? m : max(k, 1)),
                        b: GEMMOperand(b.ptr, ld: tb ? max(k, 1) : n), beta: beta,
                        output: GEMMOutput(c.ptr, ld: n, bias: bias.ptr), threads: threads)
                    expectClose(
                        c, ref, tol: 1e-5 * Double(max(k, 1)).squareRoot(),
                        "bias \(m)x\(n)x\(k) tA=\(ta) tB=\(tb) alpha \(alpha) beta \(beta) threads=\(threads)")
                }
            }
        }
    }

    /// The fused fully connected layer (the bias added by the GEMM's first depth block)
    /// against the naive product plus bias, on odd shapes, one deeper than a depth block,
    /// a batch of 32 rows (the short tile), and with 16-bit x and weight.
    @Test func linearAddsTheBiasOnce() {
        var r = Rand(21)
        for (rows, n, k) in [(1, 1, 1), (7, 17, 13), (64, 10, 128), (5, 33, 785), (32, 80, 37), (200, 130, 520)] {
            for dtype in [DType.float32, .float16, .bfloat16] {
                let x = r.array([rows, k]).converted(to: dtype), w = r.array([n, k]).converted(to: dtype)
                let bias = r.array([n])
                let product = naiveGemm(
                    transA: false, transB: true, m: rows, n: n, k: k, alpha: 1,
                    a: x.float32.scalars, b: w.float32.scalars, beta: 0, c: [])
                let ref = product.enumerated().map { $0.element + Double(bias.scalars[$0.offset % n]) }
                expectClose(
                    MatMul.linear(x, w, bias: bias), ref, tol: 1e-5 * Double(k).squareRoot(),
                    "linear \(rows)x\(n)x\(k) \(dtype)")
            }
        }
    }

    /// A 16-bit C is the fp32 product rounded once, bit for bit: the same tiles are summed in
    /// the same order, and each leaves the registers rounded. With a bias (added in fp32
    /// before the rounding) and with beta 1 (onto C's widened old values), on odd shapes.
    @Test(arguments: [DType.float16, .bfloat16])
    func halfOutputIsTheProductRoundedOnce(dtype: DType) {
        var r = Rand(31)
        for (m, n, k) in [
            (1, 1, 1), (7, 17, 13), (13, 31, 29), (64, 64, 64), (37, 53, 300), (145, 33, 70), (3, 70, 384), (301, 7, 5),
            (32, 80, 37),
        ] {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let a = r.array([m * k]).converted(to: dtype), b = r.array([k * n]).converted(to: dtype)
                let bias = r.array([n]), old = r.array([m * n]).converted(to: dtype)
                let operandA = GEMMOperand(raw: a.storage.raw, dtype: dtype, ld: ta ? m : k)
                let operandB = GEMMOperand(raw: b.storage.raw, dtype: dtype, ld: tb ? k : n)
                // The fp32 reference: the product, then plus the bias, then plus the old C.
                let c32 = NDArray(shape: [m * n], zeroed: false)
                GEMM.gemm(transA: ta, transB: tb, m: m, n: n, k: k, a: operandA, b: operandB, c: c32.ptr, ldc: n)
                let product = c32.scalars, oldValues = old.float32.scalars, biasValues = bias.scalars
                for (useBias, beta) in [(false, Float(0)), (true, 0), (true, 1)] {
                    let c = beta == 1 ? old.copy() : NDArray(shape: [m * n], dtype: dtype, zeroed: false)
                    GEMM.gemm(
                        transA: ta, transB: tb, m: m, n: n, k: k, a: operandA, b: operandB, beta: beta,
                        output: GEMMOutput(half: c.halfBits, dtype: dtype, ld: n, bias: useBias ? bias.ptr : nil))
                    let want = NDArray(
                        (0..<(m * n)).map { i in
                            var v = product[i]
                            if useBias { v += biasValues[i % n] }
                            if beta == 1 { v += oldValues[i] }
                            return v
                        }, shape: [m * n]
                    ).converted(to: dtype)
                    let got = UnsafeBufferPointer(start: c.halfBits, count: m * n),
                        expected = UnsafeBufferPointer(start: want.halfBits, count: m * n)
                    let mismatches = zip(got, expected).filter { $0 != $1 }.count
                    #expect(
                        mismatches == 0,
                        "\(dtype) \(m)x\(n)x\(k) tA=\(ta) tB=\(tb) bias \(useBias) beta \(beta): \(mismatches) elements differ"
                    )
                }
            }
        }
        // Deeper than one GEMM pass, MatMul computes in fp32 and converts: the same values.
        let a = r.array([5, 500]).converted(to: dtype), b = r.array([500, 9]).converted(to: dtype)
        #expect(
            MatMul.forward(a, b, output: dtype).float32.scalars
                == MatMul.forward(a, b).converted(to: dtype).float32.scalars)
    }
}
