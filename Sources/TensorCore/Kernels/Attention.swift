/// Multi-head scaled dot-product attention on heads side by side in (B, T, h·d), the layout
/// the projections produce.
///
/// Each head's products read and write its d columns in place (row stride h·d), so the heads
/// are never split into (B, h, T, d) copies and merged back: that is two copies of every
/// activation forward and four backward. A head's scores, softmax and product run one after
/// another on one thread, while its (Tq, Tk) block is still in cache. A head that runs on
/// one thread multiplies through `HeadProduct`, which skips a causal head's masked tiles.
public enum Attention {
    /// O = softmax(scale · Q Kᵀ) V for every head; row i of a causal head sees keys 0...i only.
    ///
    /// 16-bit heads (under autocast) are widened a batch element at a time into fp32 scratch,
    /// and the scores and softmax run in fp32; O and the weights P are rounded once, when stored.
    /// - Parameters:
    ///   - q: queries (B, Tq, h·d), float32, float16 or bfloat16.
    ///   - k: keys (B, Tk, h·d), of q's type.
    ///   - v: values (B, Tk, h·d), of q's type.
    ///   - heads: h.
    ///   - causal: mask the keys after each query's position (needs Tq == Tk).
    ///   - scale: applied to the scores inside the softmax (usually 1/√d).
    /// - Returns: O (B, Tq, h·d), and the weights P (B, h, Tq, Tk) that backward needs, both in q's type.
    public static func forward(q: NDArray, k: NDArray, v: NDArray, heads: Int, causal: Bool, scale: Float) -> (
        NDArray, NDArray
    ) {
        let s = Sizes(q: q, k: k, v: v, heads: heads, causal: causal)
        let out = NDArray(shape: q.shape, dtype: q.dtype, zeroed: false)
        let weights = NDArray(shape: [s.b, heads, s.tq, s.tk], dtype: q.dtype, zeroed: false)
        let inputs = [q, k, v], results = [weights, out]
        s.forEachHead(scratch: s.scratch(inputs: inputs, results: results), inputs: inputs, results: results) {
            h, scratch in
            let (qh, kh, vh) = (scratch.input(0, h), scratch.input(1, h), scratch.input(2, h))
            // S (Tq, Tk) = Q_h (Tq, d) · K_hᵀ (d, Tk), then P = softmax(scale · S) row by row in place.
            // (Causal: the tiles right of the diagonal are skipped; the softmax zeroes them.)
            let p = scratch.result(0, h)
            s.product(
                transA: false, transB: true, m: s.tq, n: s.tk, k: s.d, a: qh, lda: s.c,
                b: kh, ldb: s.c, c: p.0, ldc: s.tk, mask: .lowerColumns, threads: h.threads)
            for i in 0..<s.tq {
                Softmax.scaledRow(
                    p.0 + i * s.tk, p.0 + i * s.tk, valid: causal ? i + 1 : s.tk, length: s.tk, scale: scale)
            }
            scratch.store(0, h)
            // O_h (Tq, d) = P (Tq, Tk) · V_h (Tk, d), into the head's columns of O.
            let o = scratch.result(1, h)
            s.product(
                transA: false, transB: false, m: s.tq, n: s.d, k: s.tk, a: p.0, lda: s.tk,
                b: vh, ldb: s.c, c: o.0, ldc: o.1, mask: .lowerDepth, threads: h.threads)
            scratch.store(1, h)
        }
        return (out, weights)
    }

    /// Gradients (dq, dk, dv) of `forward`, from dO and the saved weights P.
    /// - Parameters:
    ///   - dOut: (B, Tq, h·d), any float type.
    ///   - q: the queries given to `forward`.
    ///   - k: the keys given to `forward`.
    ///   - v: the values given to `forward`.
    ///   - weights: P (B, h, Tq, Tk) from `forward`.
    ///   - heads: as given to `forward`.
    ///   - causal: as given to `forward`.
    ///   - scale: as given to `forward`.
    ///   - types: the types to return dq, dk and dv in (16 bits when backward stores them so).
    /// - Returns: dq (B, Tq, h·d), dk and dv (B, Tk, h·d).
    public static func backward(
        _ dOut: NDArray, q: NDArray, k: NDArray, v: NDArray, weights: NDArray,
        heads: Int, causal: Bool, scale: Float,
        types: (DType, DType, DType) = (.float32, .float32, .float32)
    ) -> (NDArray, NDArray, NDArray) {
        let s = Sizes(q: q, k: k, v: v, heads: heads, causal: causal)
        precondition(
            dOut.shape == q.shape && weights.shape == [s.b, heads, s.tq, s.tk],
            "attention backward got dO \(dOut.shape) and weights \(weights.shape) for queries \(q.shape)")
        // Every element of dq, dk and dv lies in exactly one head's columns, written whole below.
        let dq = NDArray(shape: q.shape, dtype: types.0, zeroed: false),
            dk = NDArray(shape: k.shape, dtype: types.1, zeroed: false)
        let dv = NDArray(shape: v.shape, dtype: types.2, zeroed: false)
        let inputs = [q, k, v, dOut, weights], results = [dq, dk, dv]
        s.forEachHead(
            scratch: s.scratch(inputs: inputs, results: results) + s.tq * s.tk, inputs: inputs, results: results
        ) { h, scratch in
            let (qh, kh, vh, gh, p) = (
                scratch.input(0, h), scratch.input(1, h), scratch.input(2, h), scratch.input(3, h), scratch.input(4, h)
            )
            let (dqh, dkh, dvh) = (scratch.result(0, h), scratch.result(1, h), scratch.result(2, h))
            let ds = scratch.spare
            // dP (Tq, Tk) = dO_h (Tq, d) · V_hᵀ (d, Tk);  dV_h (Tk, d) = Pᵀ (Tk, Tq) · dO_h (Tq, d).
            s.product(
                transA: false, transB: true, m: s.tq, n: s.tk, k: s.d, a: gh, lda: s.c,
                b: vh, ldb: s.c, c: ds, ldc: s.tk, mask: .lowerColumns, threads: h.threads)
            s.product(
                transA: true, transB: false, m: s.tk, n: s.d, k: s.tq, a: p, lda: s.tk,
                b: gh, ldb: s.c, c: dvh.0, ldc: dvh.1, mask: .upperDepth, threads: h.threads)
            // dS = the softmax's gradient of dP, row by row in place (the scale included).
            for i in 0..<s.tq {
                Softmax.scaledRowBackward(
                    ds + i * s.tk, p + i * s.tk, ds + i * s.tk,
                    valid: causal ? i + 1 : s.tk, length: s.tk, scale: scale)
            }
            // dQ_h (Tq, d) = dS (Tq, Tk) · K_h (Tk, d);  dK_h (Tk, d) = dSᵀ (Tk, Tq) · Q_h (Tq, d).
            s.product(
                transA: false, transB: false, m: s.tq, n: s.d, k: s.tk, a: ds, lda: s.tk,
                b: kh, ldb: s.c, c: dqh.0, ldc: dqh.1, mask: .lowerDepth, threads: h.threads)
            s.product(
                transA: true, transB: false, m: s.tk, n: s.d, k: s.tq, a: ds, lda: s.tk,
                b: qh, ldb: s.c, c: dkh.0, ldc: dkh.1, mask: .upperDepth, threads: h.threads)
            for i in 0..<3 { scratch.store(i, h) }
        }
        return (dq, dk, dv)
    }

    /// One (batch, head) pair of a call: which head, where its columns start, and whether the
    /// task moved to a new batch element (its 16-bit inputs are then widened).
    struct Head {
        let index: Int, batch: Int, offsetInBatch: Int, qOffset: Int, kOffset: Int, threads: Int?, newBatch: Bool
    }

    /// A task's fp32 views of a call's arrays, for the heads it runs.
    ///
    /// An fp32 input is read in place. A 16-bit input (q, k, v, dO: (B, T, h·d); the weights:
    /// (B, h, Tq, Tk)) is widened a batch element at a time, when the task reaches a new one:
    /// one contiguous read the hardware prefetcher follows, where a head's columns are 64-byte
    /// pieces of rows 256 bytes apart (widened per head, the loads waited on memory: 154
    /// `perf` samples in 20 GPT steps, against 78 this way). Results go in place when fp32,
    /// else to a head-sized buffer that `store` rounds into the array.
    struct Scratch {
        let sizes: Sizes, inputs: [NDArray], results: [NDArray]
        /// Per input, its widened batch element (nil for fp32); per result, its head buffer.
        let slabs: [UnsafeMutablePointer<Float>?], buffers: [UnsafeMutablePointer<Float>?]
        /// What is left of the task's scratch (backward's dS).
        let spare: UnsafeMutablePointer<Float>

        /// Input `i`'s view for head `h`: its first element, row stride C for (B, T, h·d) arrays
        /// and Tk for the weights. Widens the batch element first when the head starts one.
        func input(_ i: Int, _ h: Head) -> UnsafeMutablePointer<Float> {
            let array = inputs[i], perBatch = array.count / sizes.b, isWeights = array.rank == 4
            let within = isWeights ? (h.index % sizes.heads) * sizes.tq * sizes.tk : h.offsetInBatch
            guard let slab = slabs[i] else { return array.ptr + h.batch * perBatch + within }
            if h.newBatch { HalfCast.widenBlock(array.halfBits + h.batch * perBatch, slab, perBatch, array.dtype) }
            return slab + within
        }

        /// Where result `i` of head `h` goes: (pointer, row stride).
        func result(_ i: Int, _ h: Head) -> (UnsafeMutablePointer<Float>, Int) {
            let array = results[i]
            if let buffer = buffers[i] { return (buffer, array.rank == 4 ? sizes.tk : sizes.d) }
            if array.rank == 4 { return (array.ptr + h.index * sizes.tq * sizes.tk, sizes.tk) }
            return (array.ptr + (array.shape[1] == sizes.tq ? h.qOffset : h.kOffset), sizes.c)
        }

        /// Rounds result `i` of head `h` from its buffer into the 16-bit array; nothing for fp32.
        func store(_ i: Int, _ h: Head) {
            guard let buffer = buffers[i] else { return }
            let array = results[i]
            if array.rank == 4 {
                HalfCast.narrowBlock(
                    buffer, array.halfBits + h.index * sizes.tq * sizes.tk, sizes.tq * sizes.tk, array.dtype)
                return
            }
            let start = array.shape[1] == sizes.tq ? h.qOffset : h.kOffset, rows = array.shape[1]
            for r in 0..<rows {
                HalfCast.narrowBlock(buffer + r * sizes.d, array.halfBits + start + r * sizes.c, sizes.d, array.dtype)
            }
        }
    }

    /// The sizes of one call, checked, and the walk over its heads.
    struct Sizes {
        let b: Int, tq: Int, tk: Int, c: Int, d: Int, heads: Int, causal: Bool

        init(q: NDArray, k: NDArray, v: NDArray, heads: Int, causal: Bool) {
            precondition(
                q.rank == 3 && k.rank == 3 && k.shape == v.shape && q.shape[0] == k.shape[0]
                    && q.shape[2] == k.shape[2],
                "attention needs q (B, Tq, C) and k, v (B, Tk, C), got \(q.shape), \(k.shape), \(v.shape)")
            precondition(
                q.dtype != .int32 && k.dtype == q.dtype && v.dtype == q.dtype,
                "attention needs q, k and v of one float type, got \(q.dtype), \(k.dtype), \(v.dtype)")
            (b, tq, tk, c, self.heads, self.causal) = (q.shape[0], q.shape[1], k.shape[1], q.shape[2], heads, causal)
            precondition(heads >= 1 && c % heads == 0, "width \(c) is not a multiple of \(heads) heads")
            precondition(!causal || tq == tk, "causal attention needs as many keys as queries, got \(tk) and \(tq)")
            d = c / heads
        }

        /// Floats a task's `Scratch` needs: a batch element of each 16-bit input, a head's
        /// worth of each 16-bit result (P: Tq x Tk; O, dq, dk, dv: T x d).
        func scratch(inputs: [NDArray], results: [NDArray]) -> Int {
            inputs.reduce(0) { $0 + ($1.isHalf ? $1.count / b : 0) }
                + results.reduce(0) { $0 + ($1.isHalf ? $1.count / (b * heads) : 0) }
        }

        /// A `Scratch` over `count` floats at `base` (see `scratch(inputs:results:)`).
        func carve(_ base: UnsafeMutablePointer<Float>, inputs: [NDArray], results: [NDArray]) -> Scratch {
            var free = base
            func take(_ array: NDArray, _ count: Int) -> UnsafeMutablePointer<Float>? {
                guard array.isHalf else { return nil }
                defer { free += count }
                return free
            }
            let slabs = inputs.map { take($0, $0.count / b) },
                buffers = results.map { take($0, $0.count / (b * heads)) }
            return Scratch(sizes: self, inputs: inputs, results: results, slabs: slabs, buffers: buffers, spare: free)
        }

        /// C = op(A) · op(B) for one head: through `HeadProduct` on one thread (a causal head
        /// computing only what `mask` says it needs), else through the threaded GEMM.
        func product(
            transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
            b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
            mask: HeadProduct.Mask, threads: Int?
        ) {
            if threads == 1 {
                HeadProduct.multiply(
                    transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                    c: c, ldc: ldc, mask: causal ? mask : .none)
            } else {
                GEMM.sgemm(
                    transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc,
                    threads: threads)
            }
        }

        /// Calls `body(head, scratch)` for every (batch, head) pair; `Head.index` indexes P's
        /// (B, h) matrices. As `GEMM.batchedGemm`: small heads run one per thread, large ones one
        /// after another on every thread. Each task carves one `Scratch` of `count` floats
        /// (`scratch(inputs:results:)`, plus what the body uses from `spare`) for all its heads.
        func forEachHead(scratch count: Int, inputs: [NDArray], results: [NDArray], _ body: (Head, Scratch) -> Void) {
            func run(_ heads: Range<Int>, _ threads: Int?) {
                withUnsafeTemporaryAllocation(of: Float.self, capacity: max(count, 1)) { buffer in
                    let scratch = carve(buffer.baseAddress!, inputs: inputs, results: results)
                    for head in heads {
                        let (bi, hi) = (head / self.heads, head % self.heads)
                        body(
                            Head(
                                index: head, batch: bi, offsetInBatch: hi * d, qOffset: bi * tq * c + hi * d,
                                kOffset: bi * tk * c + hi * d, threads: threads,
                                newBatch: hi == 0 || head == heads.lowerBound),
                            scratch)
                    }
                }
            }
            let pairs = b * heads
            if GEMM.runsOnePerThread(batch: pairs, flopsEach: 2 * tq * tk * d) {
                ThreadPool.shared.parallelFor(pairs) { r in run(r, 1) }
            } else {
                run(0..<pairs, nil)
            }
        }
    }
}
