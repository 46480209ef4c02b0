#if arch(x86_64)
    import _Builtin_intrinsics.intel
#endif

/// Int8 weights packed for `Int8GEMM.gemm`: N padded to whole panels of 16 columns and K to
/// whole groups of 4, each panel stored group by group, 4 bytes of k per column.
public struct PackedInt8Weights: @unchecked Sendable {
    public let n: Int, k: Int
    /// K rounded up to a multiple of 4 (A's rows must be at least this long).
    public let paddedK: Int
    /// (N/16 panels, K/4 groups, 16 columns, 4 k), zero in the padding.
    public let storage: Storage
    /// Σ_k w[n, k] per column: removes the activations' zero point from the sums.
    public let columnSums: [Int32]

    public var panels: Int { (n + 15) / 16 }
}

/// The int8 matrix product of quantized inference: C (M, N) int32 = A (M, K) u8 · Wᵀ, W (N, K)
/// int8, exact in 32-bit integers.
///
/// The AVX2 micro-kernel multiplies 4 bytes of one row of A (broadcast) by a 4 x 16 block of W
/// with `vpmaddubsw` (unsigned by signed bytes, adjacent pairs added into int16) and widens with
/// `vpmaddwd` against ones: 64 multiply-adds per two instructions, against 8 per fp32 FMA.
/// The int16 pair sums saturate above 32767, so A must hold 7-bit values (0...127) and W
/// values in -127...127: 2·127·127 = 32258 fits. This is FBGEMM's `reduce_range` on AVX2.
public enum Int8GEMM {
    /// Packs W (N, K) int8, row-major.
    /// - Parameters:
    ///   - w: N·K values in -127...127.
    ///   - n: rows of W (outputs).
    ///   - k: columns of W (the inner dimension).
    public static func pack(_ w: UnsafePointer<Int8>, n: Int, k: Int) -> PackedInt8Weights {
        let paddedK = (k + 3) / 4 * 4, panels = (n + 15) / 16
        let storage = Storage(byteCount: max(panels * paddedK * 16, 64), zeroed: true)
        let out = storage.raw.assumingMemoryBound(to: Int8.self)
        var sums = [Int32](repeating: 0, count: n)
        for col in 0..<n {
            let panel = col / 16, lane = col % 16
            for kk in 0..<k {
                let v = w[col * k + kk]
                precondition(v != -128, "int8 weights must lie in -127...127")
                out[panel * paddedK * 16 + (kk / 4) * 64 + lane * 4 + kk % 4] = v
                sums[col] += Int32(v)
            }
        }
        return PackedInt8Weights(n: n, k: k, paddedK: paddedK, storage: storage, columnSums: sums)
    }

    /// C = A · Wᵀ over rows split among the threads.
    /// - Parameters:
    ///   - m: rows of A and C.
    ///   - a: (M, lda) u8 in 0...127, lda >= w.paddedK (bytes past K are multiplied by zero).
    ///   - lda: A's row stride in bytes.
    ///   - w: packed (N, K).
    ///   - c: (M, N) int32, row-major.
    public static func gemm(
        m: Int, a: UnsafePointer<UInt8>, lda: Int, w: PackedInt8Weights, c: UnsafeMutablePointer<Int32>
    ) {
        precondition(lda >= w.paddedK, "A's rows (\(lda) bytes) must cover the padded depth \(w.paddedK)")
        ThreadPool.shared.parallelFor((m + 3) / 4, grain: max(1, 4096 / max(w.paddedK * w.panels, 1))) { blocks in
            rows(blocks.lowerBound * 4..<min(m, blocks.upperBound * 4), a: a, lda: lda, w: w, c: c)
        }
    }

    /// Rows `range` of C on the calling thread.
    @inline(__always)
    static func rows(
        _ range: Range<Int>, a: UnsafePointer<UInt8>, lda: Int, w: PackedInt8Weights, c: UnsafeMutablePointer<Int32>
    ) {
        for row in stride(from: range.lowerBound, to: range.upperBound, by: 4) {
            for panel in 0..<w.panels {
                tile(
                    rows: min(4, range.upperBound - row), a: a + row * lda, lda: lda, w: w, panel: panel,
                    c: c + row * w.n + panel * 16)
            }
        }
    }

    /// Rows `0..<rows` (at most 4) of A against one 16-column panel of W.
    @inline(__always)
    static func tile(
        rows: Int, a: UnsafePointer<UInt8>, lda: Int, w: PackedInt8Weights, panel: Int, c: UnsafeMutablePointer<Int32>
    ) {
        let groups = w.paddedK / 4
        let b = UnsafeRawPointer(w.storage.raw) + panel * w.paddedK * 16
        let columns = min(16, w.n - panel * 16)
        var out = (SIMD16<Int32>(), SIMD16<Int32>(), SIMD16<Int32>(), SIMD16<Int32>())
        #if arch(x86_64)
            if rows == 4 {
                let ones = _mm256_set1_epi16(1)
                var c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00,
                    c31 = c00
                let a0 = UnsafeRawPointer(a), a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda
                for g in 0..<groups {
                    let b0 = _mm256_loadu_si256(b.advanced(by: g * 64).assumingMemoryBound(to: __m256i.self))
                    let b1 = _mm256_loadu_si256(b.advanced(by: g * 64 + 32).assumingMemoryBound(to: __m256i.self))
                    var x = _mm256_set1_epi32(
                        Int32(bitPattern: a0.loadUnaligned(fromByteOffset: g * 4, as: UInt32.self)))
                    c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(_mm256_maddubs_epi16(x, b0), ones))
                    c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(_mm256_maddubs_epi16(x, b1), ones))
                    x = _mm256_set1_epi32(Int32(bitPattern: a1.loadUnaligned(fromByteOffset: g * 4, as: UInt32.self)))
                    c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(_mm256_maddubs_epi16(x, b0), ones))
                    c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(_mm256_maddubs_epi16(x, b1), ones))
                    x = _mm256_set1_epi32(Int32(bitPattern: a2.loadUnaligned(fromByteOffset: g * 4, as: UInt32.self)))
                    c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(_mm256_maddubs_epi16(x, b0), ones))
                    c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(_mm256_maddubs_epi16(x, b1), ones))
                    x = _mm256_set1_epi32(Int32(bitPattern: a3.loadUnaligned(fromByteOffset: g * 4, as: UInt32.self)))
                    c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(_mm256_maddubs_epi16(x, b0), ones))
                    c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(_mm256_maddubs_epi16(x, b1), ones))
                }
                if columns == 16 {
                    for (r, pair) in [(c00, c01), (c10, c11), (c20, c21), (c30, c31)].enumerated() {
                        let dst = UnsafeMutableRawPointer(c + r * w.n)
                        _mm256_storeu_si256(dst.assumingMemoryBound(to: __m256i.self), pair.0)
                        _mm256_storeu_si256((dst + 32).assumingMemoryBound(to: __m256i.self), pair.1)
                    }
                    return
                }
                out = (
                    unsafeBitCast((c00, c01), to: SIMD16<Int32>.self),
                    unsafeBitCast((c10, c11), to: SIMD16<Int32>.self),
                    unsafeBitCast((c20, c21), to: SIMD16<Int32>.self), unsafeBitCast((c30, c31), to: SIMD16<Int32>.self)
                )
            } else {
                out = portableTile(rows: rows, a: a, lda: lda, b: b, groups: groups)
            }
        #else
            out = portableTile(rows: rows, a: a, lda: lda, b: b, groups: groups)
        #endif
        withUnsafeBytes(of: out) { raw in
            let v = raw.bindMemory(to: Int32.self)
            for r in 0..<rows { for j in 0..<columns { c[r * w.n + j] = v[r * 16 + j] } }
        }
    }

    /// The same tile with scalar integer arithmetic (edge rows, and CPUs without AVX2).
    static func portableTile(rows: Int, a: UnsafePointer<UInt8>, lda: Int, b: UnsafeRawPointer, groups: Int)
        -> (SIMD16<Int32>, SIMD16<Int32>, SIMD16<Int32>, SIMD16<Int32>)
    {
        var acc = [SIMD16<Int32>](repeating: SIMD16<Int32>(), count: 4)
        let w = b.assumingMemoryBound(to: Int8.self)
        for r in 0..<rows {
            var s = SIMD16<Int32>()
            for g in 0..<groups {
                for j in 0..<16 {
                    for q in 0..<4 { s[j] &+= Int32(a[r * lda + g * 4 + q]) &* Int32(w[g * 64 + j * 4 + q]) }
                }
            }
            acc[r] = s
        }
        return (acc[0], acc[1], acc[2], acc[3])
    }
}
