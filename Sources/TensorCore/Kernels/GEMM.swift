/// Single-precision general matrix multiply, row-major: C = alpha · op(A) · op(B) + beta · C.
///
/// The structure is the BLIS/Goto one: B is packed a KC x NC block at a time into
/// 16-column micro-panels shared by all threads (in L3, one micro-panel in L1), each thread
/// packs its own MC x KC block of A (in L2) into 6-row micro-panels, and the micro-kernel
/// computes 6x16 tiles of C in registers. Threads split the rows of C when there are
/// enough of them, else the columns.
public enum GEMM {
    static let kcBlock = 256
    static let mcBlock = 144
    static let ncBlock = 4080
    /// Below this many flops the pool's dispatch costs more than a second thread saves.
    static let parallelFlops = 1 << 20

    /// C (m, n) = alpha · op(A) (m, k) · op(B) (k, n) + beta · C.
    /// - Parameters:
    ///   - transA: use A^T, where A is stored (k, m) with row stride `lda`.
    ///   - transB: use B^T, where B is stored (n, k) with row stride `ldb`.
    ///   - beta: 0 overwrites C (which may hold garbage), 1 accumulates into it.
    ///   - threads: at most this many threads (default: the whole pool).
    public static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                             alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int,
                             threads: Int? = nil) {
        if m == 0 || n == 0 { return }
        var beta = beta
        if beta != 0 && beta != 1 || k == 0 || alpha == 0 {
            for i in 0..<m {
                let row = c + i * ldc
                if beta == 0 { row.update(repeating: 0, count: n) } else { for j in 0..<n { row[j] *= beta } }
            }
            if k == 0 || alpha == 0 { return }
            beta = 1
        }
        let av = MatrixView(base: a, rowStride: transA ? 1 : lda, colStride: transA ? lda : 1)
        let bv = MatrixView(base: b, rowStride: transB ? 1 : ldb, colStride: transB ? ldb : 1)
        let pool = ThreadPool.shared
        var nt = min(threads ?? pool.threadCount, pool.threadCount)
        if 2 * m * n * k < parallelFlops { nt = 1 }

        let nr = GEMMMicroKernel.nr
        let shared = GEMMScratch.current
        shared.reserve(a: mcBlock * min(kcBlock, k), b: min(kcBlock, k) * ((min(ncBlock, n) + nr - 1) / nr) * nr)
        let packedB = shared.b
        let barrier = SpinBarrier(count: nt)
        let accumulateFirst = beta == 1
        pool.parallel(threads: nt) { tid, nthreads in
            // Rows when each thread gets at least four micro-panels of them, else columns.
            let splitRows = m >= nthreads * 4 * GEMMMicroKernel.mr
            let tm = splitRows ? nthreads : 1, tn = splitRows ? 1 : nthreads
            let ti = splitRows ? tid : 0, tj = splitRows ? 0 : tid
            let rowPanels = ThreadPool.chunk((m + GEMMMicroKernel.mr - 1) / GEMMMicroKernel.mr, parts: tm, index: ti)
            let rowStart = rowPanels.lowerBound * GEMMMicroKernel.mr
            let rowEnd = min(rowPanels.upperBound * GEMMMicroKernel.mr, m)
            let mine = GEMMScratch.current
            if tid != 0 { mine.reserve(a: mcBlock * min(kcBlock, k), b: 0) }
            let packedA = mine.a
            for jc in stride(from: 0, to: n, by: ncBlock) {
                let nc = min(ncBlock, n - jc)
                let panels = (nc + nr - 1) / nr
                for pc in stride(from: 0, to: k, by: kcBlock) {
                    let kc = min(kcBlock, k - pc)
                    GEMMPacking.packB(bv, pc: pc, kc: kc, jc: jc, nc: nc,
                                      panels: ThreadPool.chunk(panels, parts: nthreads, index: tid), into: packedB)
                    if nthreads > 1 { barrier.wait() }
                    let accumulate = pc > 0 || accumulateFirst
                    let myPanels = ThreadPool.chunk(panels, parts: tn, index: tj)
                    for ic in stride(from: rowStart, to: rowEnd, by: mcBlock) {
                        let mc = min(mcBlock, rowEnd - ic)
                        GEMMPacking.packA(av, ic: ic, mc: mc, pc: pc, kc: kc, alpha: alpha, into: packedA)
                        for jp in myPanels {
                            let cols = min(nr, nc - jp * nr)
                            let bp = packedB + jp * kc * nr
                            for ir in stride(from: 0, to: mc, by: GEMMMicroKernel.mr) {
                                let rows = min(GEMMMicroKernel.mr, mc - ir)
                                let ap = packedA + ir * kc
                                let cp = c + (ic + ir) * ldc + jc + jp * nr
                                if rows == GEMMMicroKernel.mr && cols == nr {
                                    GEMMMicroKernel.full(kc: kc, a: ap, b: bp, c: cp, ldc: ldc, accumulate: accumulate)
                                } else {
                                    GEMMMicroKernel.edge(kc: kc, a: ap, b: bp, c: cp, ldc: ldc,
                                                         mr: rows, nr: cols, accumulate: accumulate)
                                }
                            }
                        }
                    }
                    if nthreads > 1 { barrier.wait() }
                }
            }
        }
    }

    /// A batch of independent GEMMs with fixed element strides between matrices.
    ///
    /// Many small products (attention heads) run one per thread; large ones run one after
    /// another, each on all threads.
    /// - Parameters:
    ///   - batch: number of products.
    ///   - strideA, strideB, strideC: elements between consecutive matrices (0 reuses one).
    public static func batchedSgemm(batch: Int, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                                    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, strideA: Int,
                                    b: UnsafePointer<Float>, ldb: Int, strideB: Int,
                                    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, strideC: Int) {
        let pool = ThreadPool.shared
        if batch >= pool.threadCount && 2 * m * n * k < 8 * parallelFlops {
            pool.parallelFor(batch) { r in
                for i in r {
                    sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                          a: a + i * strideA, lda: lda, b: b + i * strideB, ldb: ldb,
                          beta: beta, c: c + i * strideC, ldc: ldc, threads: 1)
                }
            }
        } else {
            for i in 0..<batch {
                sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                      a: a + i * strideA, lda: lda, b: b + i * strideB, ldb: ldb,
                      beta: beta, c: c + i * strideC, ldc: ldc)
            }
        }
    }
}
