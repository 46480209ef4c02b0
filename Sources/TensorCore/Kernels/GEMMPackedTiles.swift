/// The tiles of a block with both operands packed, into an fp32 C.
struct GEMMPackedTiles: GEMMTiles {
    let kc: Int
    /// The block's packed A (6-row micro-panels, `kc` deep) and packed B micro-panels.
    let a: UnsafePointer<Float>, b: UnsafePointer<Float>, panelStride: Int
    /// The block's top-left corner of C.
    let c: UnsafeMutablePointer<Float>, ldc: Int
    let accumulate: Bool
    let bias: UnsafePointer<Float>?

    @inline(__always)
    func full(_ jp: Int, _ ir: Int) {
        GEMMMicroKernel.full(
            kc: kc, a: a + ir * kc, b: b + jp * panelStride, c: c + ir * ldc + jp * GEMMMicroKernel.nr,
            ldc: ldc, accumulate: accumulate, bias: panelBias(jp))
    }

    @inline(__always)
    func edge(_ jp: Int, _ ir: Int, rows: Int, cols: Int) {
        let ap = a + ir * kc, bp = b + jp * panelStride
        GEMMMicroKernel.edge(
            c: c + ir * ldc + jp * GEMMMicroKernel.nr, ldc: ldc, mr: rows, nr: cols,
            accumulate: accumulate, bias: panelBias(jp)
        ) {
            GEMMMicroKernel.full(kc: kc, a: ap, b: bp, c: $0, ldc: 16, accumulate: false)
        }
    }

    @inline(__always)
    func pair(_ jp: Int, _ ir: Int, rows: Int) {
        let bp = b + jp * panelStride
        GEMMMicroKernel.short(
            rows: rows, kc: kc, a: a + ir * kc, b0: bp, b1: bp + panelStride, ldb: 16,
            c: c + ir * ldc + jp * GEMMMicroKernel.nr, ldc: ldc, accumulate: accumulate,
            bias: panelBias(jp))
    }
}
