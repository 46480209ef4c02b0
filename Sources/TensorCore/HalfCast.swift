#if arch(x86_64)
    import _Builtin_intrinsics.intel
    import CSupport
#endif

/// Casts between Float32 and the 16-bit storage formats.
///
/// Float16 goes through Swift's `Float16`, which the F16C build flag lowers to
/// `vcvtps2ph`/`vcvtph2ps`; BFloat16 is the top half of a Float32 bit pattern, rounded to
/// nearest even, with a NaN kept a NaN (quiet one at a time; 0xFFFF eight at a time).
public enum HalfCast {
    /// Rounds one Float32 to BFloat16 bits (round to nearest even; NaN stays NaN).
    @inline(__always)
    public static func bfloat16Bits(_ f: Float) -> UInt16 {
        // A select, not a branch, so loops over it vectorise.
        let bits = f.bitPattern
        let rounded = (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16
        let quietNaN = (bits >> 16) | 0x0040
        return UInt16(truncatingIfNeeded: bits & 0x7FFF_FFFF > 0x7F80_0000 ? quietNaN : rounded)
    }

    /// Widens BFloat16 bits to Float32 exactly.
    @inline(__always)
    public static func float(bfloat16 b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }

    /// Rounds one Float32 to Float16 bits (IEEE round to nearest even, overflow to inf).
    @inline(__always)
    public static func float16Bits(_ f: Float) -> UInt16 { Float16(f).bitPattern }

    /// Widens Float16 bits to Float32 exactly.
    @inline(__always)
    public static func float(float16 h: UInt16) -> Float { Float(Float16(bitPattern: h)) }

    /// Rounds eight floats to 16 bits in registers (one `vcvtps2ph` for float16).
    @inline(__always)
    public static func narrow8(_ v: SIMD8<Float>, _ dtype: DType) -> SIMD8<UInt16> {
        #if arch(x86_64)
            return unsafeBitCast(dtype == .float16 ? tandem_cvtps_ph(v) : tandem_cvtps_bf16(v), to: SIMD8<UInt16>.self)
        #else
            if dtype == .float16 { return unsafeBitCast(SIMD8<Float16>(v), to: SIMD8<UInt16>.self) }
            let bits = unsafeBitCast(v, to: SIMD8<UInt32>.self)
            let rounded = (bits &+ 0x7FFF &+ ((bits &>> 16) & 1)) &>> 16
            let quietNaN = (bits &>> 16) | 0x0040
            let isNaN = unsafeBitCast(
                SIMD8<Int32>(repeating: 0x7F80_0000) &- unsafeBitCast(bits & 0x7FFF_FFFF, to: SIMD8<Int32>.self) &>> 31,
                to: SIMD8<UInt32>.self)
            return SIMD8<UInt16>(truncatingIfNeeded: (quietNaN & isNaN) | (rounded & ~isNaN))
        #endif
    }

    /// Rounds sixteen floats (`lo` then `hi`) to 16 bits in registers: for bfloat16 the two
    /// halves share one pack and one permute, which two `narrow8` calls take two of each for.
    @inline(__always)
    public static func narrow16(_ lo: SIMD8<Float>, _ hi: SIMD8<Float>, _ dtype: DType) -> SIMD16<UInt16> {
        #if arch(x86_64)
            if dtype == .bfloat16 {
                return unsafeBitCast(
                    tandem_cvtps_bf16_x2(unsafeBitCast(lo, to: __m256.self), unsafeBitCast(hi, to: __m256.self)),
                    to: SIMD16<UInt16>.self)
            }
        #endif
        return SIMD16(lowHalf: narrow8(lo, dtype), highHalf: narrow8(hi, dtype))
    }

    /// Widens eight 16-bit values in registers (one `vcvtph2ps` for float16).
    @inline(__always)
    public static func widen8(_ h: SIMD8<UInt16>, _ dtype: DType) -> SIMD8<Float> {
        #if arch(x86_64)
            if dtype == .float16 { return _mm256_cvtph_ps(unsafeBitCast(h, to: __m128i.self)) }
            let wide = unsafeBitCast(_mm256_cvtepu16_epi32(unsafeBitCast(h, to: __m128i.self)), to: SIMD8<UInt32>.self)
        #else
            if dtype == .float16 { return SIMD8<Float>(unsafeBitCast(h, to: SIMD8<Float16>.self)) }
            let wide = SIMD8<UInt32>(truncatingIfNeeded: h)
        #endif
        return unsafeBitCast(wide &<< 16, to: SIMD8<Float>.self)
    }

    /// Eight floats rounded to `dtype` and widened back: the values a 16-bit copy would hold.
    @inline(__always)
    public static func rounded8(_ v: SIMD8<Float>, _ dtype: DType) -> SIMD8<Float> {
        #if arch(x86_64)
            if dtype == .bfloat16 {
                return unsafeBitCast(tandem_round_bf16(unsafeBitCast(v, to: __m256.self)), to: SIMD8<Float>.self)
            }
        #endif
        return widen8(narrow8(v, dtype), dtype)
    }

    /// One float rounded to `dtype` and widened back.
    @inline(__always)
    public static func rounded(_ f: Float, _ dtype: DType) -> Float { float(bits(f, dtype), dtype) }

    /// Widens one 16-bit value of `dtype` exactly.
    @inline(__always)
    public static func float(_ bits: UInt16, _ dtype: DType) -> Float {
        dtype == .float16 ? float(float16: bits) : float(bfloat16: bits)
    }

    /// Rounds one float to 16 bits of `dtype`.
    @inline(__always)
    public static func bits(_ f: Float, _ dtype: DType) -> UInt16 {
        dtype == .float16 ? float16Bits(f) : bfloat16Bits(f)
    }

    /// Calls `body(i)` for i = 0, 8, 16, ... and, when `n` is not a multiple of 8, once more
    /// at n - 8, overlapping elements already done (a pure conversion writes the same values
    /// again). Returns where one-at-a-time work starts: `n`, or 0 for rows under 8.
    ///
    /// The loop vectoriser's 32-wide body left the short rows of kernels (24-pixel im2col
    /// rows, 16-column tiles) all to its scalar remainder loop.
    @inline(__always)
    static func eightAtATime(_ n: Int, _ body: (Int) -> Void) -> Int {
        if n < 8 { return 0 }
        var i = 0
        while i &+ 8 <= n { body(i); i &+= 8 }
        if i < n { body(n &- 8) }
        return n
    }

    /// Calls `body(dtype)` with `dtype` as a constant of each 16-bit type, so that the loops
    /// in `body` test the type once, not once per eight values: LLVM kept the test, a compare
    /// and two jumps, inside the block loops, where eight values take four instructions of work
    /// (docs/BENCHMARKS.md, "bf16 rounding and 16-bit casts").
    /// - Parameter dtype: float16 or bfloat16 (anything but bfloat16 runs as float16).
    @inline(__always)
    static func perType(_ dtype: DType, _ body: (DType) -> Void) {
        if dtype == .bfloat16 { body(.bfloat16) } else { body(.float16) }
    }

    /// Widens `n` 16-bit values on the calling thread (a block inside a parallel kernel),
    /// eight at a time in registers (`eightAtATime`).
    @inline(__always)
    public static func widenBlock(
        _ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>, _ n: Int, _ dtype: DType
    ) {
        // Typed pointers: their offsets are not checked for overflow, the byte offsets were.
        perType(dtype) { dtype in
            for i in eightAtATime(
                n,
                { i in
                    UnsafeMutableRawPointer(dst + i).storeBytes(
                        of: widen8(UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<UInt16>.self), dtype),
                        as: SIMD8<Float>.self)
                })..<n
            { dst[i] = float(src[i], dtype) }
        }
    }

    /// Rounds `n` floats to 16 bits on the calling thread (a block inside a parallel kernel),
    /// sixteen and then eight at a time in registers. `src` and `dst` must not overlap.
    @inline(__always)
    public static func narrowBlock(
        _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, _ n: Int, _ dtype: DType
    ) {
        @inline(__always) func load8(_ i: Int) -> SIMD8<Float> {
            UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self)
        }
        perType(dtype) { dtype in
            // Sixteen at a time (`narrow16`), then the rest as `eightAtATime` does it.
            var done = 0
            while done &+ 16 <= n {
                UnsafeMutableRawPointer(dst + done).storeBytes(
                    of: narrow16(load8(done), load8(done &+ 8), dtype), as: SIMD16<UInt16>.self)
                done &+= 16
            }
            if done == n { return }
            let start = n >= 8 ? min(done, n &- 8) : done  // re-round values already done rather than go scalar
            for i in start
                + eightAtATime(
                    n - start,
                    { i in
                        UnsafeMutableRawPointer(dst + start + i).storeBytes(
                            of: narrow8(load8(start &+ i), dtype), as: SIMD8<UInt16>.self)
                    })..<n
            { dst[i] = bits(src[i], dtype) }
        }
    }

    /// b[i] = a[i] + b[i] over `n` 16-bit values of `dtype`, each pair added in fp32 and rounded
    /// once: the sum a 16-bit wire's reduction makes. Eight at a time in registers, as the
    /// block casts are; then one at a time for the tail.
    public static func addBlock(_ a: UnsafePointer<UInt16>, _ b: UnsafeMutablePointer<UInt16>, _ n: Int, _ dtype: DType)
    {
        perType(dtype) { dtype in
            var i = 0
            while i &+ 8 <= n {
                let x = widen8(UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<UInt16>.self), dtype)
                let y = widen8(UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<UInt16>.self), dtype)
                UnsafeMutableRawPointer(b + i).storeBytes(of: narrow8(x + y, dtype), as: SIMD8<UInt16>.self)
                i &+= 8
            }
            while i < n { b[i] = bits(float(a[i], dtype) + float(b[i], dtype), dtype); i += 1 }
        }
    }

    /// Converts `n` floats to 16-bit values of `dtype`.
    public static func narrow(
        _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, _ n: Int, _ dtype: DType
    ) {
        ThreadPool.shared.parallelFor(n, grain: 1 << 16) { r in
            narrowBlock(src + r.lowerBound, dst + r.lowerBound, r.count, dtype)
        }
    }

    /// Converts `n` 16-bit values of `dtype` to floats.
    public static func widen(_ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>, _ n: Int, _ dtype: DType)
    {
        ThreadPool.shared.parallelFor(n, grain: 1 << 16) { r in
            widenBlock(src + r.lowerBound, dst + r.lowerBound, r.count, dtype)
        }
    }
}

extension NDArray {
    /// This array as float32: itself when it already is, else a widened copy (kernels compute
    /// in fp32; 16-bit arrays are storage).
    public var float32: NDArray { dtype == .float32 ? self : converted(to: .float32) }

    /// Whether the elements are 16-bit floats.
    public var isHalf: Bool { dtype == .float16 || dtype == .bfloat16 }

    /// A copy converted to `target` (float32, float16, bfloat16, or int32 and int64 by truncation;
    /// int8 and uint8 widen to float32 only).
    public func converted(to target: DType) -> NDArray {
        if target == dtype { return copy() }
        let out = NDArray(shape: shape, dtype: target, zeroed: false)
        switch (dtype, target) {
        case (.float32, .float16), (.float32, .bfloat16):
            HalfCast.narrow(ptr, out.halfBits, count, target)
        case (.float16, .float32), (.bfloat16, .float32):
            HalfCast.widen(halfBits, out.ptr, count, dtype)
        case (.int32, .float32):
            for i in 0..<count { out.ptr[i] = Float(int32Pointer[i]) }
        case (.float32, .int32):
            for i in 0..<count { out.int32Pointer[i] = Int32(ptr[i]) }
        case (.float32, .int64):
            let p = out.storage.raw.assumingMemoryBound(to: Int64.self)
            for i in 0..<count { p[i] = Int64(ptr[i]) }
        case (.int8, .float32), (.uint8, .float32), (.int64, .float32):
            out.ptr.update(from: scalars, count: count)
        case (_, .int8), (_, .uint8):
            preconditionFailure("converting to \(target) needs a scale: quantize with Quantization's kernels")
        default:
            return converted(to: .float32).converted(to: target)
        }
        return out
    }
}
