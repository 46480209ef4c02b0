/// The tiles of a block that reads A packed and a row-major fp32 B in place, into an fp32 C.
struct GEMMDirectBTiles: GEMMTiles {
    let kc: Int
    /// The block's packed A (6-row micro-panels, `kc` deep).
    let a: UnsafePointer<Float>
    /// The block's first column of B (at its depth offset) and B's row stride.
    let b: UnsafePointer<Float>, ldb: Int
    /// The block's last partial panel of B's columns, packed (zero-padded): the edge columns' operand.
    let edgeB: UnsafePointer<Float>
    /// The block's top-left corner of C.
    let c: UnsafeMutablePointer<Float>, ldc: Int
    let accumulate: Bool
    let bias: UnsafePointer<Float>?

    @inline(__always)
    func full(_ jp: Int, _ ir: Int) {
        GEMMMicroKernel.full(
            kc: kc, a: a + ir * kc, b: b + jp * GEMMMicroKernel.nr, ldb: ldb,
            c: c + ir * ldc + jp * GEMMMicroKernel.nr, ldc: ldc, accumulate: accumulate,
            bias: panelBias(jp))
    }

    /// A full panel of columns reads B in place; the partial one reads `edgeB`.
    @inline(__always)
    func edge(_ jp: Int, _ ir: Int, rows: Int, cols: Int) {
        let ap = a + ir * kc, cp = c + ir * ldc + jp * GEMMMicroKernel.nr
        if cols == GEMMMicroKernel.nr {
            let brow = b + jp * GEMMMicroKernel.nr
            GEMMMicroKernel.edge(c: cp, ldc: ldc, mr: rows, nr: cols, accumulate: accumulate, bias: panelBias(jp)) {
                GEMMMicroKernel.full(kc: kc, a: ap, b: brow, ldb: ldb, c: $0, ldc: 16, accumulate: false)
            }
        } else {
            GEMMMicroKernel.edge(c: cp, ldc: ldc, mr: rows, nr: cols, accumulate: accumulate, bias: panelBias(jp)) {
                GEMMMicroKernel.full(kc: kc, a: ap, b: edgeB, c: $0, ldc: 16, accumulate: false)
            }
        }
    }

    @inline(__always)
    func pair(_ jp: Int, _ ir: Int, rows: Int) {
        let brow = b + jp * GEMMMicroKernel.nr
        GEMMMicroKernel.short(
            rows: rows, kc: kc, a: a + ir * kc, b0: brow, b1: brow + GEMMMicroKernel.nr, ldb: ldb,
            c: c + ir * ldc + jp * GEMMMicroKernel.nr, ldc: ldc, accumulate: accumulate,
            bias: panelBias(jp))
    }
}
