#if arch(x86_64)
    import _Builtin_intrinsics.intel
#endif

/// Packing of an operand whose packed direction is strided in memory: the columns of a
/// transposed B (x · Wᵀ, every Linear forward) and the rows of a row-major A.
///
/// The micro-panels want `width` values (16 columns of B, 6 rows of A) side by side for each
/// k step, while memory holds each line (a column of B, a row of A) contiguous along k. A
/// scalar loop stores one value at a time at a stride of 16 or 6 floats and, for 16-bit
/// operands, converts one value per instruction; at 2-4 cycles a value it cost as much as
/// the multiply for the skinny products of small batches. Here 8 x 8 blocks are loaded
/// 8-wide (16-bit values widened 8 at a time), transposed in registers and stored 8-wide.
enum PanelTranspose {
    /// Writes element (line l, step p) of the source to `dst[p * dstStride + l]`.
    /// - Parameters:
    ///   - src: line 0, step 0; elements of `dtype`.
    ///   - rounding: see `GEMMOperand.rounding`.
    ///   - lineStride: elements between consecutive lines (steps are contiguous).
    ///   - lines: lines to pack (at most `dstStride`).
    ///   - depth: steps per line.
    ///   - dst: the micro-panel, `dstStride` floats per step.
    ///   - alpha: factor applied to every value (GEMM's alpha, folded into packed A).
    static func pack(
        _ src: UnsafeRawPointer, dtype: DType, rounding: DType? = nil, lineStride: Int, lines: Int, depth: Int,
        dst: UnsafeMutablePointer<Float>, dstStride: Int, alpha: Float = 1
    ) {
        var l0 = 0
        #if arch(x86_64)
            // Groups of 8 lines (B's 16 columns), or one group of 6 (A's rows).
            let group = min(dstStride, 8), size = dtype.byteSize
            precondition(group == 6 || group == 8, "panels are 6 or at least 8 values wide, got \(dstStride)")
            let blocked = depth / 8 * 8
            // The last group may be partial (the 4 rows left of a 64-row A, 10 columns of B): its
            // missing lines read as 0, which the caller's zeroed panel holds there anyway. Left to
            // the scalar loop, it took about 1.5% of the MLP's bf16 step, most of it rounding the
            // input batch's last 4 rows one value at a time (docs/BENCHMARKS.md, "bf16 rounding and 16-bit casts").
            while l0 < lines {
                let base = src + l0 * lineStride * size, valid = min(group, lines - l0)
                switch (dtype, rounding) {
                case (_, .float16?):
                    blocks(base, lineStride * size, size, group, valid, blocked, dst + l0, dstStride, alpha) {
                        rounded(load(float32: $0), .float16)
                    }
                case (_, .bfloat16?):
                    blocks(base, lineStride * size, size, group, valid, blocked, dst + l0, dstStride, alpha) {
                        rounded(load(float32: $0), .bfloat16)
                    }
                case (.float16, _):
                    blocks(base, lineStride * size, size, group, valid, blocked, dst + l0, dstStride, alpha) {
                        load(float16: $0)
                    }
                case (.bfloat16, _):
                    blocks(base, lineStride * size, size, group, valid, blocked, dst + l0, dstStride, alpha) {
                        load(bfloat16: $0)
                    }
                default:
                    blocks(base, lineStride * size, size, group, valid, blocked, dst + l0, dstStride, alpha) {
                        load(float32: $0)
                    }
                }
                scalar(
                    src, dtype, rounding, lineStride, lines: l0..<(l0 + valid), steps: blocked..<depth, dst, dstStride,
                    alpha)
                l0 += valid
            }
        #endif
        scalar(src, dtype, rounding, lineStride, lines: l0..<lines, steps: 0..<depth, dst, dstStride, alpha)
    }

    /// The element-at-a-time path for the edges (and for other architectures).
    private static func scalar(
        _ src: UnsafeRawPointer, _ dtype: DType, _ rounding: DType?, _ lineStride: Int, lines: Range<Int>,
        steps: Range<Int>, _ dst: UnsafeMutablePointer<Float>, _ dstStride: Int, _ alpha: Float
    ) {
        if lines.isEmpty || steps.isEmpty { return }
        if let rounding {
            let s = src.assumingMemoryBound(to: Float.self)
            for l in lines {
                for p in steps { dst[p * dstStride + l] = alpha * HalfCast.rounded(s[l * lineStride + p], rounding) }
            }
        } else if dtype == .float32 {
            let s = src.assumingMemoryBound(to: Float.self)
            for l in lines { for p in steps { dst[p * dstStride + l] = alpha * s[l * lineStride + p] } }
        } else {
            let s = src.assumingMemoryBound(to: UInt16.self)
            for l in lines {
                for p in steps { dst[p * dstStride + l] = alpha * HalfCast.float(s[l * lineStride + p], dtype) }
            }
        }
    }

    #if arch(x86_64)
        /// Transposes `depth / 8` blocks of `group` lines x 8 steps, of which the first `valid` are
        /// read and the rest are 0 (lines 6 and 7 always when `group` is 6).
        /// - Parameters:
        ///   - lineBytes: bytes between consecutive lines.
        ///   - elementBytes: bytes of one element.
        ///   - loadValues: 8 consecutive elements as 8 floats.
        @inline(__always)
        private static func blocks(
            _ src: UnsafeRawPointer, _ lineBytes: Int, _ elementBytes: Int, _ group: Int, _ valid: Int,
            _ depth: Int, _ dst: UnsafeMutablePointer<Float>, _ dstStride: Int, _ alpha: Float,
            _ loadValues: (UnsafeRawPointer) -> __m256
        ) {
            if valid < group {
                // A partial group: the same walk with the missing lines' loads turned into zeros.
                return walk(src, lineBytes, elementBytes, group, depth, dst, dstStride, alpha) { line, p in
                    line < valid ? loadValues(p) : _mm256_setzero_ps()
                }
            }
            walk(src, lineBytes, elementBytes, group, depth, dst, dstStride, alpha) { _, p in loadValues(p) }
        }

        /// The walk of `blocks`, with `loadLine(l, p)` reading line l's 8 steps at p.
        @inline(__always)
        private static func walk(
            _ src: UnsafeRawPointer, _ lineBytes: Int, _ elementBytes: Int, _ group: Int, _ depth: Int,
            _ dst: UnsafeMutablePointer<Float>, _ dstStride: Int, _ alpha: Float,
            _ loadLine: (Int, UnsafeRawPointer) -> __m256
        ) {
            let zero = _mm256_setzero_ps(), scale = _mm256_set1_ps(alpha)
            @inline(__always) func load(_ line: Int, _ p: UnsafeRawPointer) -> __m256 {
                alpha == 1 ? loadLine(line, p) : _mm256_mul_ps(loadLine(line, p), scale)
            }
            var s = src, d = UnsafeMutableRawPointer(dst)
            let rowBytes = dstStride * 4
            for _ in 0..<(depth / 8) {
                // r_l[q] = line l, step q.
                let r0 = load(0, s), r1 = load(1, s + lineBytes), r2 = load(2, s + 2 * lineBytes)
                let r3 = load(3, s + 3 * lineBytes), r4 = load(4, s + 4 * lineBytes), r5 = load(5, s + 5 * lineBytes)
                let r6 = group == 8 ? load(6, s + 6 * lineBytes) : zero,
                    r7 = group == 8 ? load(7, s + 7 * lineBytes) : zero
                // Pairs of lines interleaved: t0 = [r0[0] r1[0] r0[1] r1[1] | r0[4] r1[4] r0[5] r1[5]].
                let t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1)
                let t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3)
                let t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5)
                let t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7)
                // Then pairs of pairs: u_q = [step q of lines 0-3 | step q+4 of lines 0-3], v_q for lines 4-7.
                let u0 = low64(t0, t2), u1 = high64(t0, t2), u2 = low64(t1, t3), u3 = high64(t1, t3)
                let v0 = low64(t4, t6), v1 = high64(t4, t6), v2 = low64(t5, t7), v3 = high64(t5, t7)
                store(u0, v0, d, rowBytes, group)
                store(u1, v1, d + rowBytes, rowBytes, group)
                store(u2, v2, d + 2 * rowBytes, rowBytes, group)
                store(u3, v3, d + 3 * rowBytes, rowBytes, group)
                s += 8 * elementBytes
                d += 8 * rowBytes
            }
        }

        /// Stores step q (the low halves: lines 0-3 from `a`, the next `group - 4` from `b`) at
        /// `d`, and step q + 4 (the high halves) four rows further on.
        @inline(__always)
        private static func store(_ a: __m256, _ b: __m256, _ d: UnsafeMutableRawPointer, _ rowBytes: Int, _ group: Int)
        {
            let later = d + 4 * rowBytes
            d.storeBytes(of: a.lowHalf, as: SIMD4<Float>.self)
            later.storeBytes(of: a.highHalf, as: SIMD4<Float>.self)
            if group == 8 {
                d.storeBytes(of: b.lowHalf, toByteOffset: 16, as: SIMD4<Float>.self)
                later.storeBytes(of: b.highHalf, toByteOffset: 16, as: SIMD4<Float>.self)
            } else {
                d.storeBytes(of: b.lowHalf.lowHalf, toByteOffset: 16, as: SIMD2<Float>.self)
                later.storeBytes(of: b.highHalf.lowHalf, toByteOffset: 16, as: SIMD2<Float>.self)
            }
        }

        @inline(__always)
        private static func low64(_ a: __m256, _ b: __m256) -> __m256 {
            _mm256_castpd_ps(_mm256_unpacklo_pd(_mm256_castps_pd(a), _mm256_castps_pd(b)))
        }

        @inline(__always)
        private static func high64(_ a: __m256, _ b: __m256) -> __m256 {
            _mm256_castpd_ps(_mm256_unpackhi_pd(_mm256_castps_pd(a), _mm256_castps_pd(b)))
        }

        @inline(__always)
        private static func load(float32 p: UnsafeRawPointer) -> __m256 {
            _mm256_loadu_ps(p.assumingMemoryBound(to: Float.self))
        }

        /// Eight fp32 values rounded to 16 bits and widened back (`GEMMOperand.rounding`).
        @inline(__always)
        private static func rounded(_ v: __m256, _ dtype: DType) -> __m256 {
            unsafeBitCast(HalfCast.rounded8(unsafeBitCast(v, to: SIMD8<Float>.self), dtype), to: __m256.self)
        }

        @inline(__always)
        private static func load(float16 p: UnsafeRawPointer) -> __m256 {
            _mm256_cvtph_ps(_mm_loadu_si128(p.assumingMemoryBound(to: __m128i.self)))
        }

        /// bfloat16 is the top half of a float: zero-extend to 32 bits, shift up.
        @inline(__always)
        private static func load(bfloat16 p: UnsafeRawPointer) -> __m256 {
            _mm256_castsi256_ps(
                _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(p.assumingMemoryBound(to: __m128i.self))), 16))
        }
    #endif
}
