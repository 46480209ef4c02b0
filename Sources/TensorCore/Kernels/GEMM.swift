import Synchronization

/// Single-precision general matrix multiply, row-major: C = alpha · op(A) · op(B) + beta · C.
///
/// The structure is the BLIS/Goto one: B is packed a KC x NC block at a time into
/// 16-column micro-panels (in L3, one micro-panel in L1), each thread packs its own MC x KC
/// block of A (in L2) into 6-row micro-panels, and the micro-kernel computes 6x16 tiles of C
/// in registers. Depending on the shape, an operand that packing would not pay for is read
/// in place, and threads split C's rows (sharing packed B) or its columns (each packing its
/// own); docs/ARCHITECTURE.md lists the rules and docs/BENCHMARKS.md the measurements.
public enum GEMM {
    /// 2·m·n·k summed over every product since the process started (GEMMs with k or alpha
    /// 0 count nothing): the step benchmark divides a step's share by its time for the rate
    /// it reports against the machine's peak.
    private static let flopCount = Atomic<Int>(0)
    public static var flops: Int { flopCount.load(ordering: .relaxed) }
    /// Adds products computed outside `gemm` (an attention head's, see `HeadProduct`).
    static func count(flops: Int) { flopCount.add(flops, ordering: .relaxed) }

    /// C (m, n) = alpha · op(A) (m, k) · op(B) (k, n) + beta · C.
    /// - Parameters:
    ///   - transA: use A^T, where A is stored (k, m) with row stride `lda`.
    ///   - transB: use B^T, where B is stored (n, k) with row stride `ldb`.
    ///   - m: rows of op(A) and C.
    ///   - n: columns of op(B) and C.
    ///   - k: the inner dimension.
    ///   - alpha: scales the product.
    ///   - a: A's first element.
    ///   - lda: A's row stride.
    ///   - b: B's first element.
    ///   - ldb: B's row stride.
    ///   - beta: 0 overwrites C (which may hold garbage), 1 accumulates into it.
    ///   - c: C's first element.
    ///   - ldc: C's row stride.
    ///   - threads: at most this many threads (default: the whole pool).
    public static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int,
        threads: Int? = nil
    ) {
        gemm(
            transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: GEMMOperand(a, ld: lda),
            b: GEMMOperand(b, ld: ldb), beta: beta, c: c, ldc: ldc, threads: threads)
    }

    /// C (m, n) = alpha · op(A) · op(B) + beta · C for operands of any float type; C is fp32.
    /// See `sgemm` for the parameters.
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: GEMMOperand, b: GEMMOperand,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int,
        threads: Int? = nil
    ) {
        gemm(
            transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, b: b, beta: beta,
            output: GEMMOutput(c, ld: ldc), threads: threads)
    }

    /// Whether a product of depth `k` can be written straight to a 16-bit C: it must be summed
    /// in one pass over k (a partial sum rounded to 16 bits would lose precision).
    public static func writesHalfOutput(k: Int) -> Bool { k <= GEMMPlan.kcBlock }

    /// C (m, n) = alpha · op(A) · B + beta · C with B packed beforehand (see `GEMMPackedB`), for
    /// a B that many products share. See `sgemm` for the other parameters.
    public static func sgemm(
        transA: Bool, m: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        packedB: GEMMPackedB, beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int,
        threads: Int? = nil
    ) {
        // The B operand is never read: packing already did.
        gemm(
            transA: transA, transB: false, m: m, n: packedB.n, k: packedB.k, alpha: alpha, a: GEMMOperand(a, ld: lda),
            b: GEMMOperand(UnsafePointer(packedB.data), ld: packedB.n), beta: beta, output: GEMMOutput(c, ld: ldc),
            threads: threads, packedB: packedB)
    }

    /// C (m, n) = alpha · op(A) · op(B) + beta · C (+ the output's bias on every row) into an
    /// fp32 or a 16-bit C (see `GEMMOutput`).
    /// A 16-bit C needs `writesHalfOutput(k:)`, and beta 0 or 1 (1 widens the C it adds to).
    /// - Parameters:
    ///   - transA: use Aᵀ (A stored (k, m)).
    ///   - transB: use Bᵀ (B stored (n, k)).
    ///   - m: rows of op(A) and C.
    ///   - n: columns of op(B) and C.
    ///   - k: the inner dimension.
    ///   - alpha: scales the product.
    ///   - aOperand: A: its values, type, row stride and rounding.
    ///   - bOperand: B: its values, type, row stride and rounding.
    ///   - beta: 0 overwrites C, 1 accumulates into it.
    ///   - output: C: its values, type, row stride and bias.
    ///   - threads: at most this many threads (default: the whole pool).
    ///   - prepacked: op(B) packed beforehand; `bOperand` and `transB` are then unused.
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a aOperand: GEMMOperand, b bOperand: GEMMOperand,
        beta: Float = 0, output: GEMMOutput, threads: Int? = nil,
        packedB prepacked: GEMMPackedB? = nil
    ) {
        if m == 0 || n == 0 { return }
        precondition(
            prepacked.map { $0.k == k && $0.n == n } ?? true,
            "a packed B of (\(prepacked?.k ?? 0), \(prepacked?.n ?? 0)) used for a product of k \(k), n \(n)")
        let halfC = output.dtype != .float32
        if halfC {
            precondition(
                writesHalfOutput(k: k) && (beta == 0 || beta == 1),
                "a 16-bit GEMM output needs k <= \(GEMMPlan.kcBlock) and beta 0 or 1, "
                    + "got k \(k), beta \(beta)")
            if k == 0 || alpha == 0 {
                writeZeroProduct(output, m: m, n: n, accumulate: beta == 1)
                return
            }
        } else if beta != 0 && beta != 1 || k == 0 || alpha == 0 {
            scaleOutput(output, m: m, n: n, beta: beta, addBias: k == 0 || alpha == 0)
            if k == 0 || alpha == 0 { return }
        }
        flopCount.add(2 * m * n * k, ordering: .relaxed)
        let pool = ThreadPool.shared
        // Any beta other than 0 was applied above (or is 1), so the product adds to C.
        let plan = GEMMPlan(
            transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: aOperand, b: bOperand,
            accumulate: beta != 0, output: output, threads: threads, poolThreads: pool.threadCount,
            prepacked: prepacked)
        let shared = GEMMScratch.current
        shared.reserve(a: plan.packedACount, b: plan.packedBCount)
        let sharedB = shared.b
        let barrier = plan.threads > 1 ? SpinBarrier(count: plan.threads) : nil  // most calls are single-threaded
        pool.parallel(threads: plan.threads) { tid, nthreads in
            GEMMWorker(plan: plan, sharedB: sharedB, barrier: barrier, tid: tid, nthreads: nthreads).run()
        }
    }

    /// An fp32 C scaled by `beta` (0 clears it), plus the output's bias with `addBias`: what is
    /// left of the product when beta is not 0 or 1, or when k or alpha is 0.
    static func scaleOutput(_ output: GEMMOutput, m: Int, n: Int, beta: Float, addBias: Bool) {
        let c = output.raw.assumingMemoryBound(to: Float.self)
        for i in 0..<m {
            let row = c + i * output.ld
            if beta == 0 { row.update(repeating: 0, count: n) } else { for j in 0..<n { row[j] *= beta } }
            if addBias, let bias = output.bias { for j in 0..<n { row[j] += bias[j] } }
        }
    }

    /// A 16-bit C for an empty product (k or alpha 0): the bias, plus C's old values with
    /// `accumulate`, rounded row by row.
    static func writeZeroProduct(_ output: GEMMOutput, m: Int, n: Int, accumulate: Bool) {
        let c16 = output.raw.assumingMemoryBound(to: UInt16.self)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: n) { buffer in
            let t = buffer.baseAddress!
            for i in 0..<m {
                t.update(repeating: 0, count: n)
                GEMMMicroKernel.finishHalfRow(
                    t, c16 + i * output.ld, n, dtype: output.dtype, accumulate: accumulate,
                    bias: output.bias)
            }
        }
    }

    /// Whether a batch of independent products runs one per thread (each single-threaded)
    /// rather than one after another on every thread: when there are enough of them and each
    /// is too small to split well.
    static func runsOnePerThread(batch: Int, flopsEach: Int) -> Bool {
        batch >= ThreadPool.shared.threadCount && flopsEach < 8 * GEMMPlan.parallelFlops
    }

    /// A batch of independent GEMMs with fixed element strides between matrices.
    ///
    /// Many small products (attention heads) run one per thread; large ones run one after
    /// another, each on all threads.
    /// - Parameters:
    ///   - batch: number of products.
    ///   - transA: use Aᵀ (each A stored (k, m)).
    ///   - transB: use Bᵀ (each B stored (n, k)).
    ///   - m: rows of op(A) and C.
    ///   - n: columns of op(B) and C.
    ///   - k: the inner dimension.
    ///   - alpha: scales each product.
    ///   - a: the first A's first element.
    ///   - lda: the row stride of every A.
    ///   - strideA: elements between consecutive A matrices (0 reuses one).
    ///   - b: the first B's first element.
    ///   - ldb: the row stride of every B.
    ///   - strideB: elements between consecutive B matrices (0 reuses one).
    ///   - beta: 0 overwrites C, 1 accumulates into it.
    ///   - c: the first C's first element.
    ///   - ldc: the row stride of every C.
    ///   - strideC: elements between consecutive C matrices.
    public static func batchedSgemm(
        batch: Int, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, strideA: Int,
        b: UnsafePointer<Float>, ldb: Int, strideB: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, strideC: Int
    ) {
        batchedGemm(
            batch: batch, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
            a: GEMMOperand(a, ld: lda), strideA: strideA, b: GEMMOperand(b, ld: ldb), strideB: strideB,
            beta: beta, c: c, ldc: ldc, strideC: strideC)
    }

    /// `batchedSgemm` for operands of any float type.
    public static func batchedGemm(
        batch: Int, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: GEMMOperand, strideA: Int, b: GEMMOperand, strideB: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, strideC: Int
    ) {
        batchedGemm(
            batch: batch, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
            a: a, strideA: strideA, b: b, strideB: strideB, beta: beta, output: GEMMOutput(c, ld: ldc),
            strideC: strideC)
    }

    /// `batchedGemm` into an fp32 or 16-bit C (see `GEMMOutput`).
    public static func batchedGemm(
        batch: Int, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: GEMMOperand, strideA: Int, b: GEMMOperand, strideB: Int,
        beta: Float = 0, output: GEMMOutput, strideC: Int
    ) {
        let pool = ThreadPool.shared
        if runsOnePerThread(batch: batch, flopsEach: 2 * m * n * k) {
            pool.parallelFor(batch) { r in
                for i in r {
                    gemm(
                        transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                        a: a.advanced(by: i * strideA), b: b.advanced(by: i * strideB),
                        beta: beta, output: output.advanced(by: i * strideC), threads: 1)
                }
            }
        } else {
            for i in 0..<batch {
                gemm(
                    transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                    a: a.advanced(by: i * strideA), b: b.advanced(by: i * strideB),
                    beta: beta, output: output.advanced(by: i * strideC))
            }
        }
    }
}
