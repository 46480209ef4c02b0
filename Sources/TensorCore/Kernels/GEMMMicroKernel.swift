import CSupport

/// The register-blocked GEMM micro-kernel: a 6x16 tile of C in twelve 8-wide accumulators.
///
/// Twelve accumulators, two B vectors and one broadcast A value use 15 of the 16 ymm
/// registers; each k step is 2 loads, 6 broadcasts and 12 FMAs, enough independent FMAs to
/// hide their latency on two FMA pipes. With AVX2/FMA enabled each `addingProduct` is one
/// `vfmadd231ps ymm`.
enum GEMMMicroKernel {
    static let mr = 6
    static let nr = 16

    /// The twelve accumulators of a 6x16 tile: row i's columns 0-7 and 8-15 at 2i and 2i + 1.
    typealias Tile = (
        SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>,
        SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>
    )

    /// C[0..<6, 0..<16] (+)= packedA (kc x 6, column-major micro-panel) · packedB (kc x 16).
    /// - Parameters:
    ///   - kc: depth of the panels.
    ///   - a: packed A micro-panel, 6 values per k step.
    ///   - b: packed B micro-panel, 16 values per k step, or 16 columns of an unpacked
    ///     row-major B whose rows are `ldb` apart.
    ///   - c: top-left of the C tile, row stride `ldc`.
    ///   - accumulate: add to C instead of overwriting it.
    ///   - bias: the tile's 16 columns of a bias added to every row (see `GEMMOutput.bias`).
    @inline(__always)
    static func full(
        kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, ldb: Int = 16,
        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, bias: UnsafePointer<Float>? = nil
    ) {
        prefetchTile(UnsafeMutableRawPointer(c), ldc * 4, 64)
        update(c, ldc, accumulate, product(kc: kc, a: a, b: b, ldb: ldb), bias: bias)
    }

    /// The same full tile into a 16-bit C, rounded once straight from the registers (plus the
    /// fp32 bias, plus C's old values with `accumulate`); see `GEMMOutput`.
    @inline(__always)
    static func fullHalf(
        kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<UInt16>, ldc: Int,
        dtype: DType, accumulate: Bool, bias: UnsafePointer<Float>?
    ) {
        prefetchTile(UnsafeMutableRawPointer(c), ldc * 2, 32)
        let t = product(kc: kc, a: a, b: b, ldb: 16)
        @inline(__always) func store(_ row: Int, _ lo: SIMD8<Float>, _ hi: SIMD8<Float>) {
            storeHalfRow(lo, hi, c + row * ldc, dtype: dtype, accumulate: accumulate, bias: bias)
        }
        store(0, t.0, t.1); store(1, t.2, t.3); store(2, t.4, t.5)
        store(3, t.6, t.7); store(4, t.8, t.9); store(5, t.10, t.11)
    }

    /// packedA (kc x 6) · B (kc x 16) in registers.
    @inline(__always)
    static func product(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, ldb: Int) -> Tile {
        typealias V = SIMD8<Float>
        var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
        var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
        var ap = a, bp = UnsafeRawPointer(b)
        let bStep = ldb * 4
        for _ in 0..<kc {
            let b0 = bp.loadUnaligned(as: V.self)
            let b1 = bp.loadUnaligned(fromByteOffset: 32, as: V.self)
            var av = V(repeating: ap[0])
            c00 = c00.addingProduct(av, b0); c01 = c01.addingProduct(av, b1)
            av = V(repeating: ap[1])
            c10 = c10.addingProduct(av, b0); c11 = c11.addingProduct(av, b1)
            av = V(repeating: ap[2])
            c20 = c20.addingProduct(av, b0); c21 = c21.addingProduct(av, b1)
            av = V(repeating: ap[3])
            c30 = c30.addingProduct(av, b0); c31 = c31.addingProduct(av, b1)
            av = V(repeating: ap[4])
            c40 = c40.addingProduct(av, b0); c41 = c41.addingProduct(av, b1)
            av = V(repeating: ap[5])
            c50 = c50.addingProduct(av, b0); c51 = c51.addingProduct(av, b1)
            ap += 6
            bp += bStep
        }
        return (c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51)
    }

    /// Row edges of at most this many rows take the short tile (3 rows x 32 columns).
    static let shortRows = 3

    /// C[0..<rows, 0..<32] (+)= packedA's first `rows` rows (kc x 6 micro-panel) · two B
    /// micro-panels side by side, for a row edge of at most three rows.
    ///
    /// There the 6x16 tile spends half or more of its FMAs on padding (a batch of 32 rows is
    /// five full panels and one of 2 rows); the short tile's 12 FMAs a k step cover twice the
    /// columns instead, and it writes C directly rather than through an edge buffer.
    /// - Parameters:
    ///   - a: packed A micro-panel, 6 values per k step (only the first three are read).
    ///   - b0, b1: columns 0-15 and 16-31: packed micro-panels (`ldb` 16) or unpacked rows.
    @inline(__always)
    static func short(
        rows: Int, kc: Int, a: UnsafePointer<Float>, b0: UnsafePointer<Float>, b1: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, bias: UnsafePointer<Float>?
    ) {
        let t = shortProduct(kc: kc, a: a, b0: b0, b1: b1, ldb: ldb)
        @inline(__always) func store(
            _ i: Int, _ v0: SIMD8<Float>, _ v1: SIMD8<Float>, _ v2: SIMD8<Float>, _ v3: SIMD8<Float>
        ) {
            update(c + i * ldc, accumulate, v0, v1, bias: bias)
            update(c + i * ldc + 16, accumulate, v2, v3, bias: bias.map { $0 + 16 })
        }
        store(0, t.0, t.1, t.2, t.3)
        if rows > 1 { store(1, t.4, t.5, t.6, t.7) }
        if rows > 2 { store(2, t.8, t.9, t.10, t.11) }
    }

    /// The short tile into a 16-bit C (see `fullHalf`); `bias` is the tile's 32 columns.
    @inline(__always)
    static func shortHalf(
        rows: Int, kc: Int, a: UnsafePointer<Float>, b0: UnsafePointer<Float>, b1: UnsafePointer<Float>,
        c: UnsafeMutablePointer<UInt16>, ldc: Int, dtype: DType, accumulate: Bool, bias: UnsafePointer<Float>?
    ) {
        let t = shortProduct(kc: kc, a: a, b0: b0, b1: b1, ldb: 16)
        @inline(__always) func store(
            _ i: Int, _ v0: SIMD8<Float>, _ v1: SIMD8<Float>, _ v2: SIMD8<Float>, _ v3: SIMD8<Float>
        ) {
            storeHalfRow(v0, v1, c + i * ldc, dtype: dtype, accumulate: accumulate, bias: bias)
            storeHalfRow(v2, v3, c + i * ldc + 16, dtype: dtype, accumulate: accumulate, bias: bias.map { $0 + 16 })
        }
        store(0, t.0, t.1, t.2, t.3)
        if rows > 1 { store(1, t.4, t.5, t.6, t.7) }
        if rows > 2 { store(2, t.8, t.9, t.10, t.11) }
    }

    /// packedA's first three rows · 32 columns of B in registers: row i's columns 8v..<8v+8 at
    /// 4i + v. Twelve accumulators and three broadcasts leave one register, so each B vector
    /// is loaded once and feeds three FMAs.
    @inline(__always)
    static func shortProduct(
        kc: Int, a: UnsafePointer<Float>, b0: UnsafePointer<Float>, b1: UnsafePointer<Float>, ldb: Int
    ) -> Tile {
        typealias V = SIMD8<Float>
        var c00 = V(), c01 = V(), c02 = V(), c03 = V(), c10 = V(), c11 = V()
        var c12 = V(), c13 = V(), c20 = V(), c21 = V(), c22 = V(), c23 = V()
        var ap = a, p0 = UnsafeRawPointer(b0), p1 = UnsafeRawPointer(b1)
        let step = ldb * 4
        for _ in 0..<kc {
            let a0 = V(repeating: ap[0]), a1 = V(repeating: ap[1]), a2 = V(repeating: ap[2])
            var bv = p0.loadUnaligned(as: V.self)
            c00 = c00.addingProduct(a0, bv); c10 = c10.addingProduct(a1, bv); c20 = c20.addingProduct(a2, bv)
            bv = p0.loadUnaligned(fromByteOffset: 32, as: V.self)
            c01 = c01.addingProduct(a0, bv); c11 = c11.addingProduct(a1, bv); c21 = c21.addingProduct(a2, bv)
            bv = p1.loadUnaligned(as: V.self)
            c02 = c02.addingProduct(a0, bv); c12 = c12.addingProduct(a1, bv); c22 = c22.addingProduct(a2, bv)
            bv = p1.loadUnaligned(fromByteOffset: 32, as: V.self)
            c03 = c03.addingProduct(a0, bv); c13 = c13.addingProduct(a1, bv); c23 = c23.addingProduct(a2, bv)
            ap += 6
            p0 += step
            p1 += step
        }
        return (c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23)
    }

    /// Same tile, reading six rows of an unpacked row-major A (row stride `lda`) in place.
    @inline(__always)
    static func fullDirectA(
        kc: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, bias: UnsafePointer<Float>? = nil
    ) {
        typealias V = SIMD8<Float>
        var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
        var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
        prefetchTile(UnsafeMutableRawPointer(c), ldc * 4, 64)
        var a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda, a4 = a + 4 * lda, a5 = a + 5 * lda
        var bp = UnsafeRawPointer(b)
        for _ in 0..<kc {
            let b0 = bp.loadUnaligned(as: V.self)
            let b1 = bp.loadUnaligned(fromByteOffset: 32, as: V.self)
            var av = V(repeating: a0.pointee)
            c00 = c00.addingProduct(av, b0); c01 = c01.addingProduct(av, b1)
            av = V(repeating: a1.pointee)
            c10 = c10.addingProduct(av, b0); c11 = c11.addingProduct(av, b1)
            av = V(repeating: a2.pointee)
            c20 = c20.addingProduct(av, b0); c21 = c21.addingProduct(av, b1)
            av = V(repeating: a3.pointee)
            c30 = c30.addingProduct(av, b0); c31 = c31.addingProduct(av, b1)
            av = V(repeating: a4.pointee)
            c40 = c40.addingProduct(av, b0); c41 = c41.addingProduct(av, b1)
            av = V(repeating: a5.pointee)
            c50 = c50.addingProduct(av, b0); c51 = c51.addingProduct(av, b1)
            a0 += 1; a1 += 1; a2 += 1; a3 += 1; a4 += 1; a5 += 1
            bp += 64
        }
        update(c, ldc, accumulate, (c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51), bias: bias)
    }

    /// Starts loading the C tile's six rows (`rowBytes` each, `ldBytes` apart) while the k
    /// loop runs, so the update at the end does not wait on memory: C rows are far apart, and
    /// the hardware prefetcher does not follow that pattern.
    @inline(__always)
    static func prefetchTile(_ c: UnsafeMutableRawPointer, _ ldBytes: Int, _ rowBytes: Int) {
        for row in 0..<6 {
            tandem_prefetch_write(c + row * ldBytes)
            tandem_prefetch_write(c + row * ldBytes + rowBytes - 4)
        }
    }

    /// Writes (or adds) the twelve accumulators, plus `bias` when given, to the 6x16 tile of C.
    @inline(__always)
    static func update(
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ accumulate: Bool, _ t: Tile, bias: UnsafePointer<Float>? = nil
    ) {
        update(c, accumulate, t.0, t.1, bias: bias); update(c + ldc, accumulate, t.2, t.3, bias: bias)
        update(c + 2 * ldc, accumulate, t.4, t.5, bias: bias); update(c + 3 * ldc, accumulate, t.6, t.7, bias: bias)
        update(c + 4 * ldc, accumulate, t.8, t.9, bias: bias); update(c + 5 * ldc, accumulate, t.10, t.11, bias: bias)
    }

    /// Writes (or adds) columns 0-7 and 8-15 of one row of C, plus those of `bias` when given.
    @inline(__always)
    static func update(
        _ row: UnsafeMutablePointer<Float>, _ accumulate: Bool, _ lo: SIMD8<Float>, _ hi: SIMD8<Float>,
        bias: UnsafePointer<Float>?
    ) {
        var lo = lo, hi = hi
        if let bias {
            lo += UnsafeRawPointer(bias).loadUnaligned(as: SIMD8<Float>.self)
            hi += UnsafeRawPointer(bias).loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
        }
        let p = UnsafeMutableRawPointer(row)
        if accumulate {
            p.storeBytes(of: p.loadUnaligned(as: SIMD8<Float>.self) + lo, as: SIMD8<Float>.self)
            p.storeBytes(
                of: p.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self) + hi, toByteOffset: 32,
                as: SIMD8<Float>.self)
        } else {
            p.storeBytes(of: lo, as: SIMD8<Float>.self)
            p.storeBytes(of: hi, toByteOffset: 32, as: SIMD8<Float>.self)
        }
    }

    /// A tile of a 16-bit C (mr <= 6 rows, nr <= 16 columns): `compute` writes the 6x16 fp32
    /// tile into a local buffer (row stride 16), which is rounded into C once.
    @inline(__always)
    static func halfTile(
        _ c: UnsafeMutablePointer<UInt16>, ldc: Int, dtype: DType, mr: Int, nr: Int, accumulate: Bool,
        bias: UnsafePointer<Float>?, _ compute: (UnsafeMutablePointer<Float>) -> Void
    ) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 6 * 16) { tile in
            let t = tile.baseAddress!
            compute(t)
            for i in 0..<mr {
                finishHalfRow(t + i * 16, c + i * ldc, nr, dtype: dtype, accumulate: accumulate, bias: bias)
            }
        }
    }

    /// Rounds n fp32 products (plus the bias, plus C's old values with `accumulate`) into a
    /// row of a 16-bit C.
    @inline(__always)
    static func finishHalfRow(
        _ t: UnsafeMutablePointer<Float>, _ c: UnsafeMutablePointer<UInt16>, _ n: Int, dtype: DType,
        accumulate: Bool, bias: UnsafePointer<Float>?
    ) {
        if n == 16 {
            let tr = UnsafeRawPointer(t)
            storeHalfRow(
                tr.loadUnaligned(as: SIMD8<Float>.self), tr.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self), c,
                dtype: dtype, accumulate: accumulate, bias: bias)
            return
        }
        if let bias { for j in 0..<n { t[j] += bias[j] } }
        if accumulate { for j in 0..<n { t[j] += HalfCast.float(c[j], dtype) } }
        HalfCast.narrowBlock(t, c, n, dtype)
    }

    /// Rounds one 16-column row of products (columns 0-7 in `lo`, 8-15 in `hi`), plus the
    /// bias, plus C's old values with `accumulate`, into a row of a 16-bit C, in registers.
    @inline(__always)
    static func storeHalfRow(
        _ lo: SIMD8<Float>, _ hi: SIMD8<Float>, _ c: UnsafeMutablePointer<UInt16>, dtype: DType,
        accumulate: Bool, bias: UnsafePointer<Float>?
    ) {
        var lo = lo, hi = hi
        let cr = UnsafeMutableRawPointer(c)
        if let bias {
            lo += UnsafeRawPointer(bias).loadUnaligned(as: SIMD8<Float>.self)
            hi += UnsafeRawPointer(bias).loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
        }
        if accumulate {
            lo += HalfCast.widen8(cr.loadUnaligned(as: SIMD8<UInt16>.self), dtype)
            hi += HalfCast.widen8(cr.loadUnaligned(fromByteOffset: 16, as: SIMD8<UInt16>.self), dtype)
        }
        cr.storeBytes(of: HalfCast.narrow16(lo, hi, dtype), as: SIMD16<UInt16>.self)
    }

    /// A partial tile (mr <= 6 rows, nr <= 16 columns) at the matrix edge: `compute` writes a
    /// full 6x16 tile into a local buffer (row stride 16), whose valid part (plus `bias`) goes to C.
    @inline(__always)
    static func edge(
        c: UnsafeMutablePointer<Float>, ldc: Int, mr: Int, nr: Int, accumulate: Bool, bias: UnsafePointer<Float>? = nil,
        _ compute: (UnsafeMutablePointer<Float>) -> Void
    ) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 6 * 16) { tile in
            let t = tile.baseAddress!
            compute(t)
            for i in 0..<mr {
                for j in 0..<nr {
                    let v = bias.map { t[i * 16 + j] + $0[j] } ?? t[i * 16 + j]
                    c[i * ldc + j] = accumulate ? c[i * ldc + j] + v : v
                }
            }
        }
    }
}
