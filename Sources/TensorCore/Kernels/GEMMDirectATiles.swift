/// The tiles of a block that reads a row-major fp32 A in place and B packed, into an fp32 C.
struct GEMMDirectATiles: GEMMTiles {
    let kc: Int
    /// The block's first row of A (at its depth offset) and A's row stride.
    let a: UnsafePointer<Float>, lda: Int
    /// The block's last partial row panel of A, packed (zero-padded): the edge rows' operand.
    let edgeA: UnsafePointer<Float>
    /// The block's packed B micro-panels.
    let b: UnsafePointer<Float>, panelStride: Int
    /// The block's top-left corner of C.
    let c: UnsafeMutablePointer<Float>, ldc: Int
    let accumulate: Bool
    let bias: UnsafePointer<Float>?

    @inline(__always)
    func full(_ jp: Int, _ ir: Int) {
        GEMMMicroKernel.fullDirectA(
            kc: kc, a: a + ir * lda, lda: lda, b: b + jp * panelStride,
            c: c + ir * ldc + jp * GEMMMicroKernel.nr, ldc: ldc, accumulate: accumulate,
            bias: panelBias(jp))
    }

    /// A partial panel of columns reads A in place; the partial row panel reads `edgeA`.
    @inline(__always)
    func edge(_ jp: Int, _ ir: Int, rows: Int, cols: Int) {
        let bp = b + jp * panelStride, cp = c + ir * ldc + jp * GEMMMicroKernel.nr
        if rows == GEMMMicroKernel.mr {
            let arow = a + ir * lda
            GEMMMicroKernel.edge(c: cp, ldc: ldc, mr: rows, nr: cols, accumulate: accumulate, bias: panelBias(jp)) {
                GEMMMicroKernel.fullDirectA(kc: kc, a: arow, lda: lda, b: bp, c: $0, ldc: 16, accumulate: false)
            }
        } else {
            GEMMMicroKernel.edge(c: cp, ldc: ldc, mr: rows, nr: cols, accumulate: accumulate, bias: panelBias(jp)) {
                GEMMMicroKernel.full(kc: kc, a: edgeA, b: bp, c: $0, ldc: 16, accumulate: false)
            }
        }
    }

    /// Only the last row panel is short, and it is the one packed into `edgeA`.
    @inline(__always)
    func pair(_ jp: Int, _ ir: Int, rows: Int) {
        let bp = b + jp * panelStride
        GEMMMicroKernel.short(
            rows: rows, kc: kc, a: edgeA, b0: bp, b1: bp + panelStride, ldb: 16,
            c: c + ir * ldc + jp * GEMMMicroKernel.nr, ldc: ldc, accumulate: accumulate,
            bias: panelBias(jp))
    }
}
