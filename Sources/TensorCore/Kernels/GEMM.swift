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
    static let kcBlock = 384
    static let mcBlock = 144
    static let ncBlock = 4080
    /// Below this many flops the pool's dispatch costs more than a second thread saves.
    static let parallelFlops = 1 << 20
    /// Half of a core's L2, the budget for the B panels a thread reuses from L2.
    static let l2Bytes = 256 * 1024
    /// Widest C for which A is read unpacked. (Since packing transposes 8 x 8 blocks in
    /// registers, packed A is 6-10% faster from 96 columns on when C is short: 64 x 256 x 784.)
    static let directANMax = 64
    /// Tall C reads A in place up to this width: each A panel is then reused by enough B
    /// panels that its rows stay in cache, and threads can split columns with no packing.
    static let directATallNMax = 1024
    static let directATallMMin = 96
    /// Tallest C for which B is read unpacked.
    static let directBMMax = 4 * GEMMMicroKernel.mr

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
        gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: GEMMOperand(a, ld: lda),
             b: GEMMOperand(b, ld: ldb), beta: beta, c: c, ldc: ldc, threads: threads)
    }

    /// C (m, n) = alpha · op(A) · op(B) + beta · C for operands of any float type; C is fp32.
    /// See `sgemm` for the parameters.
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                            alpha: Float = 1, a: GEMMOperand, b: GEMMOperand,
                            beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int,
                            threads: Int? = nil) {
        gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, b: b, beta: beta,
             output: GEMMOutput(c, ld: ldc), threads: threads)
    }

    /// Whether a product of depth `k` can be written straight to a 16-bit C: it must be summed
    /// in one pass over k (a partial sum rounded to 16 bits would lose precision).
    public static func writesHalfOutput(k: Int) -> Bool { k <= kcBlock }

    /// C (m, n) = alpha · op(A) · B + beta · C with B packed beforehand (see `GEMMPackedB`), for
    /// a B that many products share. See `sgemm` for the other parameters.
    public static func sgemm(transA: Bool, m: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                             packedB: GEMMPackedB, beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int,
                             threads: Int? = nil) {
        // The B operand is never read: packing already did.
        gemm(transA: transA, transB: false, m: m, n: packedB.n, k: packedB.k, alpha: alpha, a: GEMMOperand(a, ld: lda),
             b: GEMMOperand(UnsafePointer(packedB.data), ld: packedB.n), beta: beta, output: GEMMOutput(c, ld: ldc),
             threads: threads, packedB: packedB)
    }

    /// The depth of the blocks a product of depth `k` is cut into: equal blocks (512 -> 2 x 256,
    /// not 384 + 128), since a thin last block costs a full pass over C.
    static func depthBlock(_ k: Int) -> Int {
        let blocks = (k + kcBlock - 1) / kcBlock
        return (k + blocks - 1) / max(blocks, 1)
    }

    /// C (m, n) = alpha · op(A) · op(B) + beta · C (+ the output's bias on every row) into an
    /// fp32 or a 16-bit C (see `GEMMOutput`).
    /// A 16-bit C needs `writesHalfOutput(k:)`, and beta 0 or 1 (1 widens the C it adds to).
    /// - Parameter packedB: op(B) packed beforehand; `bOperand` and `transB` are then unused.
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                            alpha: Float = 1, a aOperand: GEMMOperand, b bOperand: GEMMOperand,
                            beta: Float = 0, output: GEMMOutput, threads: Int? = nil, packedB prepacked: GEMMPackedB? = nil) {
        if m == 0 || n == 0 { return }
        precondition(prepacked.map { $0.k == k && $0.n == n } ?? true,
                     "a packed B of (\(prepacked?.k ?? 0), \(prepacked?.n ?? 0)) used for a product of k \(k), n \(n)")
        let halfC = output.dtype != .float32
        if halfC {
            precondition(writesHalfOutput(k: k) && (beta == 0 || beta == 1),
                         "a 16-bit GEMM output needs k <= \(kcBlock) and beta 0 or 1, got k \(k), beta \(beta)")
            if k == 0 || alpha == 0 {
                writeZeroProduct(output, m: m, n: n, accumulate: beta == 1)
                return
            }
        }
        if k > 0 && alpha != 0 { flopCount.add(2 * m * n * k, ordering: .relaxed) }
        let c = output.raw.assumingMemoryBound(to: Float.self), ldc = output.ld
        let lda = aOperand.ld, ldb = bOperand.ld
        // Only fp32 operands are ever read in place (below); the pointers serve those paths.
        let a = aOperand.raw.assumingMemoryBound(to: Float.self), b = bOperand.raw.assumingMemoryBound(to: Float.self)
        var beta = beta
        if !halfC && (beta != 0 && beta != 1 || k == 0 || alpha == 0) {
            for i in 0..<m {
                let row = c + i * ldc
                if beta == 0 { row.update(repeating: 0, count: n) } else { for j in 0..<n { row[j] *= beta } }
                if (k == 0 || alpha == 0), let bias = output.bias { for j in 0..<n { row[j] += bias[j] } }
            }
            if k == 0 || alpha == 0 { return }
            beta = 1
        }
        let av = aOperand.view(transposed: transA), bv = bOperand.view(transposed: transB)
        let pool = ThreadPool.shared
        var nt = min(threads ?? pool.threadCount, pool.threadCount)
        if 2 * m * n * k < parallelFlops { nt = 1 }

        let nr = GEMMMicroKernel.nr
        let kcBlock = depthBlock(k)
        let shared = GEMMScratch.current
        shared.reserve(a: mcBlock * min(kcBlock, k),
                       b: prepacked != nil ? 0 : min(kcBlock, k) * max((min(ncBlock, n) + nr - 1) / nr, nt) * nr)
        let panelStride = min(kcBlock, k) * nr
        let barrier = nt > 1 ? SpinBarrier(count: nt) : nil  // most calls are single-threaded
        let accumulateFirst = beta == 1
        // A row-major A is read in place when packing it would not pay: each A panel is then
        // reused by few B panels (narrow C), or C is tall enough that its rows stay in cache.
        // (Measured: in place is slower for short, wide C such as 32 x 1024 x 256.)
        // (A 16-bit C goes through the packed path only: its operands are 16-bit or rounded.)
        let directA = !halfC && aOperand.isPlainFloat32 && !transA && alpha == 1
            && (n <= directANMax || (n <= directATallNMax && m >= directATallMMin))
        // Likewise a row-major B is read in place when C has so few rows that each packed B
        // panel would serve only a few A panels. (Never both: one operand is always packed.)
        let directB = prepacked == nil && !halfC && !directA && bOperand.isPlainFloat32 && !transB && m <= directBMMax
        pool.parallel(threads: nt) { tid, nthreads in
            let splitRows = GEMM.splitRows(m: m, n: n, threads: nthreads, directA: directA)
            let tm = splitRows ? nthreads : 1, tn = splitRows ? 1 : nthreads
            let ti = splitRows ? tid : 0, tj = splitRows ? 0 : tid
            let rowPanels = ThreadPool.chunk((m + GEMMMicroKernel.mr - 1) / GEMMMicroKernel.mr, parts: tm, index: ti)
            let rowStart = rowPanels.lowerBound * GEMMMicroKernel.mr
            let rowEnd = min(rowPanels.upperBound * GEMMMicroKernel.mr, m)
            let mine = GEMMScratch.current
            if tid != 0 { mine.reserve(a: mcBlock * min(kcBlock, k), b: 0) }
            let packedA = mine.a
            let edgeA = packedA  // the packed-A buffer is free when A is read in place
            // With B read in place the shared B buffer is unused; the first KC x 16 of this
            // thread's slice of it holds an edge panel.
            let edgeB = shared.b + tid * panelStride
            for jc in stride(from: 0, to: n, by: ncBlock) {
                let nc = min(ncBlock, n - jc)
                let panels = (nc + nr - 1) / nr
                for pc in stride(from: 0, to: k, by: kcBlock) {
                    let kc = min(kcBlock, k - pc)
                    // Threads that split columns pack exactly the B panels they use, so only a row
                    // split (where every thread reads every panel) has to wait for the others.
                    let sharedB = nthreads > 1 && splitRows && !directB && prepacked == nil
                    let packedB = prepacked?.block(pc: pc, jc: jc) ?? shared.b
                    if !directB && prepacked == nil {
                        GEMMPacking.packB(bv, pc: pc, kc: kc, jc: jc, nc: nc,
                                          panels: ThreadPool.chunk(panels, parts: nthreads, index: tid),
                                          panelStride: panelStride, into: packedB)
                        if sharedB { barrier!.wait() }
                    }
                    let accumulate = pc > 0 || accumulateFirst
                    let myPanels = ThreadPool.chunk(panels, parts: tn, index: tj)
                    if directB, let last = myPanels.last, nc - last * nr < nr {
                        // The partial last panel of an unpacked B is packed (zero-padded) once per block.
                        GEMMPacking.packB(bv, pc: pc, kc: kc, jc: jc, nc: nc, panels: last..<(last + 1),
                                          panelStride: panelStride, into: edgeB - last * panelStride)
                    }
                    for ic in stride(from: rowStart, to: rowEnd, by: mcBlock) {
                        let mc = min(mcBlock, rowEnd - ic)
                        let edgeRows = mc % GEMMMicroKernel.mr
                        if !directA {
                            GEMMPacking.packA(av, ic: ic, mc: mc, pc: pc, kc: kc, alpha: alpha, into: packedA)
                        } else if edgeRows > 0 {
                            // The last rows of an unpacked A are packed (zero-padded) once for the block's tiles.
                            GEMMPacking.packA(av, ic: ic + mc - edgeRows, mc: edgeRows, pc: pc, kc: kc, alpha: 1, into: edgeA)
                        }
                        // When this thread's part of the packed B block fits in L2, walk C row-panel by
                        // row-panel: each 6-row A micro-panel stays in L1 and C is written in long rows.
                        // Otherwise keep one B micro-panel in L1 and stream A from L2 (BLIS order).
                        let rowsOuter = myPanels.count * kc * nr * 4 <= l2Bytes
                        // One small closure per operand mode: a single closure holding every branch
                        // defeats the optimiser and runs all modes several times slower.
                        let mr = GEMMMicroKernel.mr
                        // The bias goes into C with the first depth block's tiles (a 16-bit C has one block).
                        let bias = pc == 0 ? output.bias.map { $0 + jc } : nil
                        // The bias columns of the tiles over B panel `jp`.
                        @inline(__always) func panelBias(_ jp: Int) -> UnsafePointer<Float>? { bias.map { $0 + jp * nr } }
                        let block: () -> Void
                        if halfC {
                            let c16 = output.raw.assumingMemoryBound(to: UInt16.self), type = output.dtype
                            block = { forEachTile(rowsOuter: rowsOuter, panels: myPanels, rows: mc, columns: nc, pair: { jp, ir in
                                let bp = packedB + jp * panelStride
                                GEMMMicroKernel.shortHalf(rows: mc - ir, kc: kc, a: packedA + ir * kc, b0: bp, b1: bp + panelStride,
                                                          c: c16 + (ic + ir) * ldc + jc + jp * nr, ldc: ldc, dtype: type,
                                                          accumulate: accumulate, bias: panelBias(jp))
                            }) { jp, ir in
                                let cols = min(nr, nc - jp * nr), rows = min(mr, mc - ir)
                                let ap = packedA + ir * kc, bp = packedB + jp * panelStride
                                let cp = c16 + (ic + ir) * ldc + jc + jp * nr, tileBias = panelBias(jp)
                                if rows == mr && cols == nr {
                                    GEMMMicroKernel.fullHalf(kc: kc, a: ap, b: bp, c: cp, ldc: ldc, dtype: type,
                                                             accumulate: accumulate, bias: tileBias)
                                } else {
                                    GEMMMicroKernel.halfTile(cp, ldc: ldc, dtype: type, mr: rows, nr: cols, accumulate: accumulate, bias: tileBias) {
                                        GEMMMicroKernel.full(kc: kc, a: ap, b: bp, c: $0, ldc: 16, accumulate: false)
                                    }
                                }
                            } }
                        } else if directA {
                            block = { forEachTile(rowsOuter: rowsOuter, panels: myPanels, rows: mc, columns: nc, pair: { jp, ir in
                                let bp = packedB + jp * panelStride
                                GEMMMicroKernel.short(rows: mc - ir, kc: kc, a: edgeA, b0: bp, b1: bp + panelStride, ldb: 16,
                                                      c: c + (ic + ir) * ldc + jc + jp * nr, ldc: ldc, accumulate: accumulate,
                                                      bias: panelBias(jp))
                            }) { jp, ir in
                                let cols = min(nr, nc - jp * nr), rows = min(mr, mc - ir)
                                let bp = packedB + jp * panelStride, cp = c + (ic + ir) * ldc + jc + jp * nr
                                let arow = a + (ic + ir) * lda + pc, tileBias = panelBias(jp)
                                if rows == mr && cols == nr {
                                    GEMMMicroKernel.fullDirectA(kc: kc, a: arow, lda: lda, b: bp, c: cp, ldc: ldc, accumulate: accumulate,
                                                                bias: tileBias)
                                } else if rows == mr {
                                    GEMMMicroKernel.edge(c: cp, ldc: ldc, mr: rows, nr: cols, accumulate: accumulate, bias: tileBias) {
                                        GEMMMicroKernel.fullDirectA(kc: kc, a: arow, lda: lda, b: bp, c: $0, ldc: 16, accumulate: false)
                                    }
                                } else {
                                    GEMMMicroKernel.edge(c: cp, ldc: ldc, mr: rows, nr: cols, accumulate: accumulate, bias: tileBias) {
                                        GEMMMicroKernel.full(kc: kc, a: edgeA, b: bp, c: $0, ldc: 16, accumulate: false)
                                    }
                                }
                            }
                            }
                        } else if directB {
                            block = { forEachTile(rowsOuter: rowsOuter, panels: myPanels, rows: mc, columns: nc, pair: { jp, ir in
                                let brow = b + pc * ldb + jc + jp * nr
                                GEMMMicroKernel.short(rows: mc - ir, kc: kc, a: packedA + ir * kc, b0: brow, b1: brow + nr, ldb: ldb,
                                                      c: c + (ic + ir) * ldc + jc + jp * nr, ldc: ldc, accumulate: accumulate,
                                                      bias: panelBias(jp))
                            }) { jp, ir in
                                let cols = min(nr, nc - jp * nr), rows = min(mr, mc - ir)
                                let ap = packedA + ir * kc, cp = c + (ic + ir) * ldc + jc + jp * nr, tileBias = panelBias(jp)
                                if cols == nr {
                                    let brow = b + pc * ldb + jc + jp * nr
                                    if rows == mr {
                                        GEMMMicroKernel.full(kc: kc, a: ap, b: brow, ldb: ldb, c: cp, ldc: ldc, accumulate: accumulate,
                                                             bias: tileBias)
                                    } else {
                                        GEMMMicroKernel.edge(c: cp, ldc: ldc, mr: rows, nr: cols, accumulate: accumulate, bias: tileBias) {
                                            GEMMMicroKernel.full(kc: kc, a: ap, b: brow, ldb: ldb, c: $0, ldc: 16, accumulate: false)
                                        }
                                    }
                                } else {
                                    GEMMMicroKernel.edge(c: cp, ldc: ldc, mr: rows, nr: cols, accumulate: accumulate, bias: tileBias) {
                                        GEMMMicroKernel.full(kc: kc, a: ap, b: edgeB, c: $0, ldc: 16, accumulate: false)
                                    }
                                }
                            }
                            }
                        } else {
                            block = { forEachTile(rowsOuter: rowsOuter, panels: myPanels, rows: mc, columns: nc, pair: { jp, ir in
                                let bp = packedB + jp * panelStride
                                GEMMMicroKernel.short(rows: mc - ir, kc: kc, a: packedA + ir * kc, b0: bp, b1: bp + panelStride, ldb: 16,
                                                      c: c + (ic + ir) * ldc + jc + jp * nr, ldc: ldc, accumulate: accumulate,
                                                      bias: panelBias(jp))
                            }) { jp, ir in
                                let cols = min(nr, nc - jp * nr), rows = min(mr, mc - ir)
                                let ap = packedA + ir * kc, bp = packedB + jp * panelStride
                                let cp = c + (ic + ir) * ldc + jc + jp * nr, tileBias = panelBias(jp)
                                if rows == mr && cols == nr {
                                    GEMMMicroKernel.full(kc: kc, a: ap, b: bp, c: cp, ldc: ldc, accumulate: accumulate, bias: tileBias)
                                } else {
                                    GEMMMicroKernel.edge(c: cp, ldc: ldc, mr: rows, nr: cols, accumulate: accumulate, bias: tileBias) {
                                        GEMMMicroKernel.full(kc: kc, a: ap, b: bp, c: $0, ldc: 16, accumulate: false)
                                    }
                                }
                            } }
                        }
                        block()
                    }
                    if sharedB { barrier!.wait() }
                }
            }
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
                GEMMMicroKernel.finishHalfRow(t, c16 + i * output.ld, n, dtype: output.dtype, accumulate: accumulate, bias: output.bias)
            }
        }
    }

    /// Calls `body(jp, ir)` for every 6x16 tile of one packed block: row panels outermost or
    /// B panels outermost. `body` is inlined into the loops, so a tile costs no call.
    ///
    /// A row panel of at most `GEMMMicroKernel.shortRows` rows goes to `pair(jp, ir)` instead,
    /// two full B panels (jp, jp + 1) at a time, for the short tile; an odd or partial last
    /// panel still goes to `body`.
    /// - Parameter columns: the block's columns (nc), which say which panels are full.
    @inline(__always)
    static func forEachTile(rowsOuter: Bool, panels: Range<Int>, rows: Int, columns: Int,
                            pair: (Int, Int) -> Void, _ body: (Int, Int) -> Void) {
        let mr = GEMMMicroKernel.mr
        let fullPanels = min(panels.upperBound, columns / GEMMMicroKernel.nr)  // panels below this are 16 columns wide
        @inline(__always) func tile(_ jp: Int, _ ir: Int) {
            if rows - ir <= GEMMMicroKernel.shortRows {
                if (jp - panels.lowerBound) % 2 == 1 {
                    if jp < fullPanels { return }  // the pair that starts at jp - 1 took it
                } else if jp + 1 < fullPanels {
                    pair(jp, ir)
                    return
                }
            }
            body(jp, ir)
        }
        if rowsOuter {
            for ir in stride(from: 0, to: rows, by: mr) { for jp in panels { tile(jp, ir) } }
        } else {
            for jp in panels { for ir in stride(from: 0, to: rows, by: mr) { tile(jp, ir) } }
        }
    }

    /// Whether threads split C by rows (else by columns).
    ///
    /// Each split is judged by its busiest thread's tiles. A column split makes every thread
    /// pack all of A, so rows win unless their busiest share is more than 5% larger; when A
    /// is read in place there is nothing to duplicate and the more even split wins. A last row
    /// panel of at most three rows counts half (the short tile covers two B panels at once):
    /// a batch of 32 rows split 18 / 14 leaves one thread 3 panels' work and the other 2.5,
    /// where splitting the columns gives each 2.75.
    static func splitRows(m: Int, n: Int, threads: Int, directA: Bool) -> Bool {
        let mr = GEMMMicroKernel.mr, nr = GEMMMicroKernel.nr
        let rowPanels = (m + mr - 1) / mr, colPanels = (min(n, ncBlock) + nr - 1) / nr
        if rowPanels < threads { return false }
        if colPanels < threads { return true }
        let shortLast = m % mr != 0 && m % mr <= GEMMMicroKernel.shortRows
        func rowWork(_ panels: Range<Int>) -> Double {
            Double(panels.count) - (shortLast && panels.contains(rowPanels - 1) ? 0.5 : 0)
        }
        var busiestRows = 0.0
        for t in 0..<threads { busiestRows = max(busiestRows, rowWork(ThreadPool.chunk(rowPanels, parts: threads, index: t))) }
        let rows = busiestRows * Double(colPanels)
        let cols = rowWork(0..<rowPanels) * Double((colPanels + threads - 1) / threads)
        return directA ? rows < cols : rows <= cols * 1.05
    }

    /// Whether a batch of independent products runs one per thread (each single-threaded)
    /// rather than one after another on every thread: when there are enough of them and each
    /// is too small to split well.
    static func runsOnePerThread(batch: Int, flopsEach: Int) -> Bool {
        batch >= ThreadPool.shared.threadCount && flopsEach < 8 * parallelFlops
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
        batchedGemm(batch: batch, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                    a: GEMMOperand(a, ld: lda), strideA: strideA, b: GEMMOperand(b, ld: ldb), strideB: strideB,
                    beta: beta, c: c, ldc: ldc, strideC: strideC)
    }

    /// `batchedSgemm` for operands of any float type.
    public static func batchedGemm(batch: Int, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                                   alpha: Float = 1, a: GEMMOperand, strideA: Int, b: GEMMOperand, strideB: Int,
                                   beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, strideC: Int) {
        batchedGemm(batch: batch, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, strideA: strideA,
                    b: b, strideB: strideB, beta: beta, output: GEMMOutput(c, ld: ldc), strideC: strideC)
    }

    /// `batchedGemm` into an fp32 or 16-bit C (see `GEMMOutput`).
    public static func batchedGemm(batch: Int, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                                   alpha: Float = 1, a: GEMMOperand, strideA: Int, b: GEMMOperand, strideB: Int,
                                   beta: Float = 0, output: GEMMOutput, strideC: Int) {
        let pool = ThreadPool.shared
        if runsOnePerThread(batch: batch, flopsEach: 2 * m * n * k) {
            pool.parallelFor(batch) { r in
                for i in r {
                    gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                         a: a.advanced(by: i * strideA), b: b.advanced(by: i * strideB),
                         beta: beta, output: output.advanced(by: i * strideC), threads: 1)
                }
            }
        } else {
            for i in 0..<batch {
                gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                     a: a.advanced(by: i * strideA), b: b.advanced(by: i * strideB),
                     beta: beta, output: output.advanced(by: i * strideC))
            }
        }
    }
}
