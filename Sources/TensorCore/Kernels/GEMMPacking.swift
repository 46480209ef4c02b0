import CSupport

/// Packing of GEMM operands into the micro-panel layouts the micro-kernel streams through.
///
/// A matrix operand is described by a base pointer, its element type and its row and column
/// strides, so a transposed operand is the same matrix with the strides swapped and packing
/// absorbs every transpose flag. 16-bit operands (fp16, bf16) are widened to fp32 as they are
/// packed, so the micro-kernel always streams fp32 and accumulates in fp32; an fp32 operand
/// with `rounding` is rounded to 16 bits and widened back as it is packed.
struct MatrixView {
    let raw: UnsafeRawPointer
    let dtype: DType
    let rowStride: Int
    let colStride: Int
    /// See `GEMMOperand.rounding`.
    var rounding: DType? = nil

    var base: UnsafePointer<Float> { raw.assumingMemoryBound(to: Float.self) }
    var half: UnsafePointer<UInt16> { raw.assumingMemoryBound(to: UInt16.self) }
}

enum GEMMPacking {
    /// Packs the block A[ic..<ic+mc, pc..<pc+kc], scaled by `alpha`, into 6-row micro-panels.
    ///
    /// Layout: panel after panel; within a panel, k-major with 6 values per k step. Rows past
    /// the matrix edge are zero, so the micro-kernel never branches.
    static func packA(
        _ a: MatrixView, ic: Int, mc: Int, pc: Int, kc: Int, alpha: Float,
        into dst: UnsafeMutablePointer<Float>
    ) {
        let mr = GEMMMicroKernel.mr
        var out = dst, first = 0
        if a.rowStride == 1 && a.colStride != 1 {
            // A transposed: the full panels k step by k step.
            let panels = mc / mr
            packSteps(
                a.raw + (ic + pc * a.colStride) * a.dtype.byteSize, dtype: a.dtype, rounding: a.rounding,
                stepStride: a.colStride, steps: kc, panels: panels, alpha: alpha, into: out)
            (first, out) = (panels * mr, out + panels * kc * mr)
        }
        for ir in stride(from: first, to: mc, by: mr) {
            let rows = min(mr, mc - ir)
            if rows < mr { (out).initialize(repeating: 0, count: kc * mr) }
            let offset = (ic + ir) * a.rowStride + pc * a.colStride
            if a.colStride == 1 {
                // Rows contiguous along k: transposed 8 steps at a time.
                PanelTranspose.pack(
                    a.raw + offset * a.dtype.byteSize, dtype: a.dtype, rounding: a.rounding, lineStride: a.rowStride,
                    lines: rows, depth: kc, dst: out, dstStride: mr, alpha: alpha)
            } else {
                // A transposed at the edge, or strided both ways: one value at a time.
                let cs = a.colStride, rs = a.rowStride
                if let rounding = a.rounding {
                    let src = a.base + offset
                    for p in 0..<kc {
                        for i in 0..<rows { out[p * mr + i] = alpha * HalfCast.rounded(src[p * cs + i * rs], rounding) }
                    }
                } else if a.dtype == .float32 {
                    let src = a.base + offset
                    for p in 0..<kc { for i in 0..<rows { out[p * mr + i] = alpha * src[p * cs + i * rs] } }
                } else {
                    let src = a.half + offset, dtype = a.dtype
                    for p in 0..<kc {
                        for i in 0..<rows { out[p * mr + i] = alpha * HalfCast.float(src[p * cs + i * rs], dtype) }
                    }
                }
            }
            out += kc * mr
        }
    }

    /// Packs `panels` full 6-row micro-panels of a transposed A, whose 6 values of each k step
    /// are contiguous (A stored (k, m): the dY of a weight gradient dW = dYᵀ · X).
    ///
    /// Four panels at a time, k step by k step: each step then reads 24 contiguous values,
    /// where panel by panel each of a row's cache lines came back from L2 for every panel it
    /// holds values of (12% of the GPT's 128 x 128 x 2048 weight gradients). Not all panels
    /// at once: their destinations are kc·24 bytes apart, which for kc 342 is two pages and
    /// 16 bytes, so more than a few streams evict each other from L1. fp32 and 16-bit operands
    /// each get the walk specialised for them; one loop branching on the type per value was
    /// slower (docs/BENCHMARKS.md, "Cold operands prefetched; a transposed A four panels at a
    /// time": fp16 `packA` profile samples 2210 / 2584 grouped with a branch per value, 812-918
    /// specialised, against 1391-1892 panel by panel).
    /// - Parameters:
    ///   - src: the first panel's first value at k step 0; elements of `dtype`.
    ///   - rounding: see `GEMMOperand.rounding`.
    ///   - stepStride: elements between consecutive k steps.
    ///   - dst: panel after panel, each `steps` x 6 floats.
    @inline(__always)
    static func packSteps(
        _ src: UnsafeRawPointer, dtype: DType, rounding: DType?, stepStride: Int, steps: Int, panels: Int,
        alpha: Float, into dst: UnsafeMutablePointer<Float>
    ) {
        let panelFloats = steps &* 6, size = dtype.byteSize
        // Four panels a step: `six` reads one panel's six values at a step.
        @inline(__always) func grouped(_ six: (UnsafeRawPointer) -> SIMD8<Float>) {
            for group in stride(from: 0, to: panels, by: 4) {
                let count = min(4, panels - group)
                for step in 0..<steps {
                    let s = src + (step &* stepStride + group &* 6) &* size
                    // 16 steps ahead (see `packB`): both lines the four panels' values may span.
                    tandem_prefetch_read(s + 16 &* stepStride &* size)
                    tandem_prefetch_read(s + 16 &* stepStride &* size + 24 &* size - 1)
                    var d = UnsafeMutableRawPointer(dst + group &* panelFloats + step &* 6)
                    for q in 0..<count {
                        let values = six(s + q &* 6 &* size)
                        d.storeBytes(of: values.lowHalf, as: SIMD4<Float>.self)
                        d.storeBytes(of: values.highHalf.lowHalf, toByteOffset: 16, as: SIMD2<Float>.self)
                        d += panelFloats &* 4
                    }
                }
            }
        }
        @inline(__always) func float32(_ s: UnsafeRawPointer) -> SIMD8<Float> {
            SIMD8(
                lowHalf: s.loadUnaligned(as: SIMD4<Float>.self),
                highHalf: SIMD4(lowHalf: s.loadUnaligned(fromByteOffset: 16, as: SIMD2<Float>.self), highHalf: .zero))
        }
        @inline(__always) func widened(_ s: UnsafeRawPointer, _ dtype: DType) -> SIMD8<Float> {
            HalfCast.widen8(
                SIMD8(
                    lowHalf: s.loadUnaligned(as: SIMD4<UInt16>.self),
                    highHalf: SIMD4(
                        lowHalf: s.loadUnaligned(fromByteOffset: 8, as: SIMD2<UInt16>.self), highHalf: .zero)),
                dtype)
        }
        if alpha == 1 && rounding == nil {
            if dtype == .float32 {
                grouped(float32)
            } else {
                HalfCast.perType(dtype) { dtype in grouped { widened($0, dtype) } }
            }
            return
        }
        // Rounded or scaled (rare: alpha is 1 in training): converted value by value.
        grouped { s in
            var values = dtype == .float32 ? float32(s) : widened(s, dtype)
            if let rounding { values = HalfCast.rounded8(values, rounding) }
            return alpha == 1 ? values : values * alpha
        }
    }

    /// Packs the 16-column micro-panels `panels` of B[pc..<pc+kc, jc..<jc+nc].
    ///
    /// Layout: panel `jp` starts at `jp * panelStride`; within it, k-major with 16 values per
    /// k step. Columns past the edge are zero. The stride is fixed by the deepest block (not
    /// this block's kc), so a thread packing the next block never writes into a panel another
    /// thread is still reading.
    static func packB(
        _ b: MatrixView, pc: Int, kc: Int, jc: Int, nc: Int, panels: Range<Int>,
        panelStride: Int, into dst: UnsafeMutablePointer<Float>
    ) {
        let nr = GEMMMicroKernel.nr
        for jp in panels {
            let out = dst + jp * panelStride
            let j0 = jc + jp * nr
            let cols = min(nr, nc - jp * nr)
            if cols < nr { out.initialize(repeating: 0, count: kc * nr) }
            if b.colStride != 1 {
                // B transposed: each column is contiguous along k.
                PanelTranspose.pack(
                    b.raw + (pc * b.rowStride + j0 * b.colStride) * b.dtype.byteSize, dtype: b.dtype,
                    rounding: b.rounding, lineStride: b.colStride, lines: cols, depth: kc, dst: out, dstStride: nr)
            } else if b.dtype != .float32 && cols == nr {
                // 16 values per k step, widened 8 at a time in registers.
                HalfCast.perType(b.dtype) { dtype in
                    for p in 0..<kc {
                        let src = UnsafeRawPointer(b.half + (pc + p) &* b.rowStride + j0)
                        tandem_prefetch_read(src + 16 &* b.rowStride &* 2)  // as for fp32 below
                        let o = UnsafeMutableRawPointer(out + p &* nr)
                        o.storeBytes(
                            of: HalfCast.widen8(src.loadUnaligned(as: SIMD8<UInt16>.self), dtype), as: SIMD8<Float>.self
                        )
                        o.storeBytes(
                            of: HalfCast.widen8(src.loadUnaligned(fromByteOffset: 16, as: SIMD8<UInt16>.self), dtype),
                            toByteOffset: 32, as: SIMD8<Float>.self)
                    }
                }
            } else if b.dtype != .float32 {
                for p in 0..<kc {
                    HalfCast.widenBlock(b.half + (pc + p) * b.rowStride + j0, out + p * nr, cols, b.dtype)
                }
            } else if let rounding = b.rounding, cols == nr {
                HalfCast.perType(rounding) { rounding in
                    for p in 0..<kc {
                        let src = UnsafeRawPointer(b.base + (pc + p) &* b.rowStride + j0)
                        let o = UnsafeMutableRawPointer(out + p &* nr)
                        o.storeBytes(
                            of: HalfCast.rounded8(src.loadUnaligned(as: SIMD8<Float>.self), rounding),
                            as: SIMD8<Float>.self)
                        o.storeBytes(
                            of: HalfCast.rounded8(
                                src.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self), rounding),
                            toByteOffset: 32, as: SIMD8<Float>.self)
                    }
                }
            } else if let rounding = b.rounding {
                for p in 0..<kc {
                    let src = b.base + (pc + p) * b.rowStride + j0, o = out + p * nr
                    for j in 0..<cols { o[j] = HalfCast.rounded(src[j], rounding) }
                }
            } else if cols == nr {
                for p in 0..<kc {
                    let src = UnsafeRawPointer(b.base + (pc + p) * b.rowStride + j0)
                    // A weight gradient's B is an activation from forward, long out of cache, read
                    // 64 bytes per row with rows 512 B-2 KB apart: the hardware prefetcher follows
                    // that poorly, so ask for the line 16 rows ahead (GPT step, with packSteps'
                    // prefetch: packing samples 764, 678, 719 -> 562, 647, 567 in three
                    // alternating pairs, docs/BENCHMARKS.md "Cold operands prefetched"; 16 rows
                    // ahead measured like 8).
                    tandem_prefetch_read(src + 16 &* b.rowStride &* 4)
                    let o = UnsafeMutableRawPointer(out + p * nr)
                    o.storeBytes(of: src.loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
                    o.storeBytes(
                        of: src.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self),
                        toByteOffset: 32, as: SIMD8<Float>.self)
                }
            } else {
                for p in 0..<kc { (out + p * nr).update(from: b.base + (pc + p) * b.rowStride + j0, count: cols) }
            }
        }
    }
}
