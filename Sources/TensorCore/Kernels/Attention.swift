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
    /// - Parameters:
    ///   - q: queries (B, Tq, h·d), fp32.
    ///   - k, v: keys and values (B, Tk, h·d), fp32.
    ///   - heads: h.
    ///   - causal: mask the keys after each query's position (needs Tq == Tk).
    ///   - scale: applied to the scores inside the softmax (usually 1/√d).
    /// - Returns: O (B, Tq, h·d), and the weights P (B, h, Tq, Tk) that backward needs.
    public static func forward(q: NDArray, k: NDArray, v: NDArray, heads: Int, causal: Bool, scale: Float) -> (NDArray, NDArray) {
        let s = Sizes(q: q, k: k, v: v, heads: heads, causal: causal)
        let out = NDArray(shape: q.shape, zeroed: false), weights = NDArray(shape: [s.b, heads, s.tq, s.tk], zeroed: false)
        let (qp, kp, vp, op, pp) = (q.ptr, k.ptr, v.ptr, out.ptr, weights.ptr)
        s.forEachHead { head, qOff, kOff, threads in
            let p = pp + head * s.tq * s.tk
            // S (Tq, Tk) = Q_h (Tq, d) · K_hᵀ (d, Tk), then P = softmax(scale · S) row by row in place.
            // (Causal: the tiles right of the diagonal are skipped; the softmax zeroes them.)
            s.product(transA: false, transB: true, m: s.tq, n: s.tk, k: s.d, a: qp + qOff, lda: s.c,
                      b: kp + kOff, ldb: s.c, c: p, ldc: s.tk, mask: .lowerColumns, threads: threads)
            for i in 0..<s.tq {
                Softmax.scaledRow(p + i * s.tk, p + i * s.tk, valid: causal ? i + 1 : s.tk, length: s.tk, scale: scale)
            }
            // O_h (Tq, d) = P (Tq, Tk) · V_h (Tk, d), into the head's columns of O.
            s.product(transA: false, transB: false, m: s.tq, n: s.d, k: s.tk, a: p, lda: s.tk,
                      b: vp + kOff, ldb: s.c, c: op + qOff, ldc: s.c, mask: .lowerDepth, threads: threads)
        }
        return (out, weights)
    }

    /// Gradients (dq, dk, dv) of `forward`, from dO and the saved weights P.
    /// - Parameters:
    ///   - dOut: (B, Tq, h·d), fp32.
    ///   - q, k, v, heads, causal, scale: as given to `forward`.
    ///   - weights: P (B, h, Tq, Tk) from `forward`.
    /// - Returns: dq (B, Tq, h·d), dk and dv (B, Tk, h·d).
    public static func backward(_ dOut: NDArray, q: NDArray, k: NDArray, v: NDArray, weights: NDArray,
                                heads: Int, causal: Bool, scale: Float) -> (NDArray, NDArray, NDArray) {
        let s = Sizes(q: q, k: k, v: v, heads: heads, causal: causal)
        precondition(dOut.shape == q.shape && weights.shape == [s.b, heads, s.tq, s.tk],
                     "attention backward got dO \(dOut.shape) and weights \(weights.shape) for queries \(q.shape)")
        // Every element of dq, dk and dv lies in exactly one head's columns, written whole below.
        let dq = NDArray(shape: q.shape, zeroed: false), dk = NDArray(shape: k.shape, zeroed: false)
        let dv = NDArray(shape: v.shape, zeroed: false)
        let (qp, kp, vp, gp, pp) = (q.ptr, k.ptr, v.ptr, dOut.ptr, weights.ptr)
        let (dqp, dkp, dvp) = (dq.ptr, dk.ptr, dv.ptr)
        s.forEachHead { head, qOff, kOff, threads in
            let p = pp + head * s.tq * s.tk
            withUnsafeTemporaryAllocation(of: Float.self, capacity: s.tq * s.tk) { buffer in
                let ds = buffer.baseAddress!
                // dP (Tq, Tk) = dO_h (Tq, d) · V_hᵀ (d, Tk);  dV_h (Tk, d) = Pᵀ (Tk, Tq) · dO_h (Tq, d).
                s.product(transA: false, transB: true, m: s.tq, n: s.tk, k: s.d, a: gp + qOff, lda: s.c,
                          b: vp + kOff, ldb: s.c, c: ds, ldc: s.tk, mask: .lowerColumns, threads: threads)
                s.product(transA: true, transB: false, m: s.tk, n: s.d, k: s.tq, a: p, lda: s.tk,
                          b: gp + qOff, ldb: s.c, c: dvp + kOff, ldc: s.c, mask: .upperDepth, threads: threads)
                // dS = the softmax's gradient of dP, row by row in place (the scale included).
                for i in 0..<s.tq {
                    Softmax.scaledRowBackward(ds + i * s.tk, p + i * s.tk, ds + i * s.tk,
                                              valid: causal ? i + 1 : s.tk, length: s.tk, scale: scale)
                }
                // dQ_h (Tq, d) = dS (Tq, Tk) · K_h (Tk, d);  dK_h (Tk, d) = dSᵀ (Tk, Tq) · Q_h (Tq, d).
                s.product(transA: false, transB: false, m: s.tq, n: s.d, k: s.tk, a: ds, lda: s.tk,
                          b: kp + kOff, ldb: s.c, c: dqp + qOff, ldc: s.c, mask: .lowerDepth, threads: threads)
                s.product(transA: true, transB: false, m: s.tk, n: s.d, k: s.tq, a: ds, lda: s.tk,
                          b: qp + qOff, ldb: s.c, c: dkp + kOff, ldc: s.c, mask: .upperDepth, threads: threads)
            }
        }
        return (dq, dk, dv)
    }

    /// The sizes of one call, checked, and the walk over its heads.
    struct Sizes {
        let b: Int, tq: Int, tk: Int, c: Int, d: Int, heads: Int, causal: Bool

        init(q: NDArray, k: NDArray, v: NDArray, heads: Int, causal: Bool) {
            precondition(q.rank == 3 && k.rank == 3 && k.shape == v.shape && q.shape[0] == k.shape[0] && q.shape[2] == k.shape[2],
                         "attention needs q (B, Tq, C) and k, v (B, Tk, C), got \(q.shape), \(k.shape), \(v.shape)")
            precondition([q, k, v].allSatisfy { $0.dtype == .float32 }, "attention's kernel reads fp32 (16-bit heads go through matmul)")
            (b, tq, tk, c, self.heads, self.causal) = (q.shape[0], q.shape[1], k.shape[1], q.shape[2], heads, causal)
            precondition(heads >= 1 && c % heads == 0, "width \(c) is not a multiple of \(heads) heads")
            precondition(!causal || tq == tk, "causal attention needs as many keys as queries, got \(tk) and \(tq)")
            d = c / heads
        }

        /// C = op(A) · op(B) for one head: through `HeadProduct` on one thread (a causal head
        /// computing only what `mask` says it needs), else through the threaded GEMM.
        func product(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                     b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                     mask: HeadProduct.Mask, threads: Int?) {
            if threads == 1 {
                HeadProduct.multiply(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                                     c: c, ldc: ldc, mask: causal ? mask : .none)
            } else {
                GEMM.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc,
                           threads: threads)
            }
        }

        /// Calls `body(head, qOffset, kOffset, threads)` for every (batch, head) pair, where
        /// `head` indexes P's (B, h) matrices and the offsets are the head's first element in
        /// q (and O) and in k (and v). As `GEMM.batchedGemm`: small heads run one per thread,
        /// large ones one after another on every thread.
        func forEachHead(_ body: (Int, Int, Int, Int?) -> Void) {
            let count = b * heads
            func call(_ head: Int, _ threads: Int?) {
                let (bi, hi) = (head / heads, head % heads)
                body(head, bi * tq * c + hi * d, bi * tk * c + hi * d, threads)
            }
            if GEMM.runsOnePerThread(batch: count, flopsEach: 2 * tq * tk * d) {
                ThreadPool.shared.parallelFor(count) { r in for head in r { call(head, 1) } }
            } else {
                for head in 0..<count { call(head, nil) }
            }
        }
    }
}
