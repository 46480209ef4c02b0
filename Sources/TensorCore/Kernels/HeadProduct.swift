/// One attention head's small products on the calling thread, with a causal head's masked
/// half skipped.
///
/// A head of 64 positions and 32 channels makes 64 x 64 x 32 products. Through `GEMM.gemm`
/// each one cost 4.3-5.4 µs, about 0.6 µs of it set-up (thread-local scratch, the thread
/// pool's dispatch, closures per block). Here B is packed once into the thread's scratch, A
/// is read in place (or packed one 6-row panel at a time when transposed), and the tiles go
/// straight to the micro-kernel. The larger gain is the mask: causal attention only needs the
/// lower triangle, and `Mask` says which tiles and which depths each 6-row panel of C needs,
/// so masked work is never done (2.4-2.8 µs a product; docs/BENCHMARKS.md).
public enum HeadProduct {
    /// The part of a product a causal head needs, for C's rows ir..<ir+6.
    public enum Mask: Sendable {
        /// Every column over the whole depth.
        case none
        /// Row i needs columns 0...i only (scores Q·Kᵀ and their gradient dO·Vᵀ); tiles wholly
        /// right of the diagonal are not computed, and what they would hold is left as it was.
        case lowerColumns
        /// Row i sums over depths 0...i only (P·V and dS·K: the weights are zero after i).
        case lowerDepth
        /// Row j sums over depths j... only (Pᵀ·dO and dSᵀ·Q: the weights are zero before j).
        case upperDepth

        /// The depths the six rows from `row` sum over, of `k`.
        func depth(row: Int, k: Int) -> Range<Int> {
            switch self {
            case .none, .lowerColumns: return 0..<k
            case .lowerDepth: return 0..<min(k, row + GEMMMicroKernel.mr)
            case .upperDepth: return min(row, k)..<k
            }
        }

        /// How many of `n` columns the six rows from `row` need.
        func columns(row: Int, n: Int) -> Int {
            self == .lowerColumns ? min(n, row + GEMMMicroKernel.mr) : n
        }
    }

    /// C (m, n) = op(A) (m, k) · op(B) (k, n), overwriting C where `mask` needs it.
    /// - Parameters:
    ///   - transA: A is stored (k, m) with row stride `lda` (else (m, k)).
    ///   - transB: B is stored (n, k) with row stride `ldb` (else (k, n)).
    ///   - m: rows of op(A) and C.
    ///   - n: columns of op(B) and C.
    ///   - k: the inner dimension.
    ///   - a: A's first element.
    ///   - lda: A's row stride.
    ///   - b: B's first element.
    ///   - ldb: B's row stride.
    ///   - c: C's first element.
    ///   - ldc: C's row stride.
    ///   - mask: which tiles and depths to compute (see `Mask`).
    public static func multiply(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, mask: Mask
    ) {
        let mr = GEMMMicroKernel.mr, nr = GEMMMicroKernel.nr
        if m == 0 || n == 0 { return }
        let panels = (n + nr - 1) / nr, panelStride = k * nr
        let scratch = GEMMScratch.current
        scratch.reserve(a: mr * k, b: panels * panelStride)
        let packedA = scratch.a, packedB = scratch.b
        // op(B) whole, in 16-column micro-panels (k x 16 each, zero-padded past n).
        let bv = MatrixView(raw: b, dtype: .float32, rowStride: transB ? 1 : ldb, colStride: transB ? ldb : 1)
        GEMMPacking.packB(bv, pc: 0, kc: k, jc: 0, nc: n, panels: 0..<panels, panelStride: panelStride, into: packedB)
        let av = MatrixView(raw: a, dtype: .float32, rowStride: transA ? 1 : lda, colStride: transA ? lda : 1)
        var flops = 0
        for ir in stride(from: 0, to: m, by: mr) {
            let rows = min(mr, m - ir), depth = mask.depth(row: ir, k: k), kc = depth.count
            let columns = mask.columns(row: ir, n: n)
            // Six rows of an untransposed A are read in place; others are packed, from the
            // first depth these rows need.
            let direct = !transA && rows == mr
            if !direct {
                GEMMPacking.packA(av, ic: ir, mc: rows, pc: depth.lowerBound, kc: kc, alpha: 1, into: packedA)
            }
            let arow = a + ir * lda + depth.lowerBound
            for jp in 0..<(columns + nr - 1) / nr {
                let bp = packedB + jp * panelStride + depth.lowerBound * nr, cp = c + ir * ldc + jp * nr
                let width = min(nr, n - jp * nr)
                if direct && width == nr {
                    GEMMMicroKernel.fullDirectA(kc: kc, a: arow, lda: lda, b: bp, c: cp, ldc: ldc, accumulate: false)
                } else if direct {
                    GEMMMicroKernel.edge(c: cp, ldc: ldc, mr: rows, nr: width, accumulate: false) {
                        GEMMMicroKernel.fullDirectA(kc: kc, a: arow, lda: lda, b: bp, c: $0, ldc: nr, accumulate: false)
                    }
                } else if rows == mr && width == nr {
                    GEMMMicroKernel.full(kc: kc, a: packedA, b: bp, c: cp, ldc: ldc, accumulate: false)
                } else {
                    GEMMMicroKernel.edge(c: cp, ldc: ldc, mr: rows, nr: width, accumulate: false) {
                        GEMMMicroKernel.full(kc: kc, a: packedA, b: bp, c: $0, ldc: nr, accumulate: false)
                    }
                }
                flops += 2 * rows * width * kc
            }
        }
        GEMM.count(flops: flops)
    }
}
