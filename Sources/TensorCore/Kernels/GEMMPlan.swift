/// How one product is cut into blocks, which operands are read in place, and how many
/// threads share it: fixed before any thread starts.
struct GEMMPlan {
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

    let m: Int, n: Int, k: Int
    let alpha: Float
    /// op(A) and op(B) as the packing routines read them.
    let av: MatrixView, bv: MatrixView
    /// A and B for the paths that read them in place (fp32 only), with their row strides.
    let a: UnsafePointer<Float>, lda: Int
    let b: UnsafePointer<Float>, ldb: Int
    let output: GEMMOutput
    let prepacked: GEMMPackedB?
    /// Whether C is 16-bit (written through the packed path only).
    let halfC: Bool
    /// Whether the first depth block adds to C (beta 1) rather than overwriting it.
    let accumulateFirst: Bool
    /// The depth of a block (see `depthBlock`) and the floats between packed B micro-panels.
    let kc: Int, panelStride: Int
    let threads: Int
    /// A row-major fp32 A read in place.
    let directA: Bool
    /// A row-major fp32 B read in place (never together with `directA`).
    let directB: Bool

    /// Plans C (m, n) = alpha · op(A) · op(B) + (beta 1 ? C : 0), for m, n, k and alpha not 0.
    /// - Parameters:
    ///   - threads: at most this many threads (nil: the whole pool).
    ///   - prepacked: op(B) packed beforehand.
    init(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: GEMMOperand, b: GEMMOperand,
        accumulate: Bool, output: GEMMOutput, threads: Int?, poolThreads: Int, prepacked: GEMMPackedB?
    ) {
        (self.m, self.n, self.k, self.alpha, self.output, self.prepacked) = (m, n, k, alpha, output, prepacked)
        (self.lda, self.ldb) = (a.ld, b.ld)
        self.a = a.raw.assumingMemoryBound(to: Float.self)
        self.b = b.raw.assumingMemoryBound(to: Float.self)
        av = a.view(transposed: transA)
        bv = b.view(transposed: transB)
        halfC = output.dtype != .float32
        accumulateFirst = accumulate
        var nt = min(threads ?? poolThreads, poolThreads)
        if 2 * m * n * k < Self.parallelFlops { nt = 1 }
        self.threads = nt
        kc = Self.depthBlock(k)
        panelStride = min(kc, k) * GEMMMicroKernel.nr
        // A row-major A is read in place when packing it would not pay: each A panel is then
        // reused by few B panels (narrow C), or C is tall enough that its rows stay in cache.
        // (Measured: in place is slower for short, wide C such as 32 x 1024 x 256.)
        // A 16-bit C goes through the packed path only: its operands are 16-bit or rounded.
        let directA =
            !halfC && a.isPlainFloat32 && !transA && alpha == 1
            && (n <= Self.directANMax || (n <= Self.directATallNMax && m >= Self.directATallMMin))
        self.directA = directA
        // Likewise a row-major B is read in place when C has so few rows that each packed B
        // panel would serve only a few A panels.
        directB = prepacked == nil && !halfC && !directA && b.isPlainFloat32 && !transB && m <= Self.directBMMax
    }

    /// The floats of packed A a thread needs.
    var packedACount: Int { Self.mcBlock * min(kc, k) }

    /// The floats of the shared packed B buffer: one block, at least a micro-panel per thread
    /// (with B read in place, each thread's slice holds its zero-padded edge panel).
    var packedBCount: Int {
        let nr = GEMMMicroKernel.nr
        return prepacked != nil ? 0 : min(kc, k) * max((min(Self.ncBlock, n) + nr - 1) / nr, threads) * nr
    }

    /// The depth of the blocks a product of depth `k` is cut into: equal blocks (512 -> 2 x 256,
    /// not 384 + 128), since a thin last block costs a full pass over C.
    static func depthBlock(_ k: Int) -> Int {
        let blocks = (k + kcBlock - 1) / kcBlock
        return (k + blocks - 1) / max(blocks, 1)
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
        for t in 0..<threads {
            busiestRows = max(busiestRows, rowWork(ThreadPool.chunk(rowPanels, parts: threads, index: t)))
        }
        let rows = busiestRows * Double(colPanels)
        let cols = rowWork(0..<rowPanels) * Double((colPanels + threads - 1) / threads)
        return directA ? rows < cols : rows <= cols * 1.05
    }
}
