/// One thread's share of a planned product: its rows or columns of C, walked a block at a
/// time (NC columns, KC deep, MC rows), packing each block's operands and running its tiles.
struct GEMMWorker {
    let plan: GEMMPlan
    /// The buffer of the packed B block that every thread fills and reads.
    let sharedB: UnsafeMutablePointer<Float>
    /// Where threads that split C's rows wait for each other around the shared B block.
    let barrier: SpinBarrier?
    let tid: Int, nthreads: Int

    /// Computes this thread's part of C.
    @inline(__always)
    func run() {
        let mr = GEMMMicroKernel.mr, nr = GEMMMicroKernel.nr
        let splitRows = GEMMPlan.splitRows(m: plan.m, n: plan.n, threads: nthreads, directA: plan.directA)
        let tm = splitRows ? nthreads : 1, tn = splitRows ? 1 : nthreads
        let ti = splitRows ? tid : 0, tj = splitRows ? 0 : tid
        let rowPanels = ThreadPool.chunk((plan.m + mr - 1) / mr, parts: tm, index: ti)
        let rowStart = rowPanels.lowerBound * mr, rowEnd = min(rowPanels.upperBound * mr, plan.m)
        let mine = GEMMScratch.current
        if tid != 0 { mine.reserve(a: plan.packedACount, b: 0) }
        let packedA = mine.a
        let edgeA = packedA  // the packed-A buffer is free when A is read in place
        // With B read in place the shared B buffer is unused; the first KC x 16 of this
        // thread's slice of it holds an edge panel.
        let edgeB = sharedB + tid * plan.panelStride
        // Threads that split columns pack exactly the B panels they use, so only a row
        // split (where every thread reads every panel) has to wait for the others.
        let waits = nthreads > 1 && splitRows && !plan.directB && plan.prepacked == nil
        for jc in stride(from: 0, to: plan.n, by: GEMMPlan.ncBlock) {
            let nc = min(GEMMPlan.ncBlock, plan.n - jc)
            let panels = (nc + nr - 1) / nr
            for pc in stride(from: 0, to: plan.k, by: plan.kc) {
                let kc = min(plan.kc, plan.k - pc)
                let packedB = plan.prepacked?.block(pc: pc, jc: jc) ?? sharedB
                if !plan.directB && plan.prepacked == nil {
                    GEMMPacking.packB(
                        plan.bv, pc: pc, kc: kc, jc: jc, nc: nc,
                        panels: ThreadPool.chunk(panels, parts: nthreads, index: tid),
                        panelStride: plan.panelStride, into: packedB)
                    if waits { barrier!.wait() }
                }
                let accumulate = pc > 0 || plan.accumulateFirst
                let myPanels = ThreadPool.chunk(panels, parts: tn, index: tj)
                if plan.directB, let last = myPanels.last, nc - last * nr < nr {
                    // The partial last panel of an unpacked B is packed (zero-padded) once per block.
                    GEMMPacking.packB(
                        plan.bv, pc: pc, kc: kc, jc: jc, nc: nc, panels: last..<(last + 1),
                        panelStride: plan.panelStride, into: edgeB - last * plan.panelStride)
                }
                // The bias goes into C with the first depth block's tiles (a 16-bit C has one block).
                let bias = pc == 0 ? plan.output.bias.map { $0 + jc } : nil
                for ic in stride(from: rowStart, to: rowEnd, by: GEMMPlan.mcBlock) {
                    let mc = min(GEMMPlan.mcBlock, rowEnd - ic)
                    let edgeRows = mc % mr
                    if !plan.directA {
                        GEMMPacking.packA(plan.av, ic: ic, mc: mc, pc: pc, kc: kc, alpha: plan.alpha, into: packedA)
                    } else if edgeRows > 0 {
                        // The last rows of an unpacked A are packed (zero-padded) once for the block's tiles.
                        GEMMPacking.packA(
                            plan.av, ic: ic + mc - edgeRows, mc: edgeRows, pc: pc, kc: kc, alpha: 1,
                            into: edgeA)
                    }
                    // When this thread's part of the packed B block fits in L2, walk C row-panel by
                    // row-panel: each 6-row A micro-panel stays in L1 and C is written in long rows.
                    // Otherwise keep one B micro-panel in L1 and stream A from L2 (BLIS order).
                    let rowsOuter = myPanels.count * kc * nr * 4 <= GEMMPlan.l2Bytes
                    let c = plan.output.raw.assumingMemoryBound(to: Float.self) + ic * plan.output.ld + jc
                    let ldc = plan.output.ld
                    // Each way of reading the operands runs its own specialised copy of the tile loop.
                    if plan.halfC {
                        let c16 = plan.output.raw.assumingMemoryBound(to: UInt16.self) + ic * ldc + jc
                        GEMMHalfTiles(
                            kc: kc, a: packedA, b: packedB, panelStride: plan.panelStride, c: c16, ldc: ldc,
                            dtype: plan.output.dtype, accumulate: accumulate, bias: bias
                        )
                        .run(rowsOuter: rowsOuter, panels: myPanels, rows: mc, columns: nc)
                    } else if plan.directA {
                        GEMMDirectATiles(
                            kc: kc, a: plan.a + ic * plan.lda + pc, lda: plan.lda, edgeA: edgeA,
                            b: packedB, panelStride: plan.panelStride, c: c, ldc: ldc,
                            accumulate: accumulate, bias: bias
                        )
                        .run(rowsOuter: rowsOuter, panels: myPanels, rows: mc, columns: nc)
                    } else if plan.directB {
                        GEMMDirectBTiles(
                            kc: kc, a: packedA, b: plan.b + pc * plan.ldb + jc, ldb: plan.ldb,
                            edgeB: edgeB, c: c, ldc: ldc, accumulate: accumulate, bias: bias
                        )
                        .run(rowsOuter: rowsOuter, panels: myPanels, rows: mc, columns: nc)
                    } else {
                        GEMMPackedTiles(
                            kc: kc, a: packedA, b: packedB, panelStride: plan.panelStride, c: c, ldc: ldc,
                            accumulate: accumulate, bias: bias
                        )
                        .run(rowsOuter: rowsOuter, panels: myPanels, rows: mc, columns: nc)
                    }
                }
                if waits { barrier!.wait() }
            }
        }
    }
}
