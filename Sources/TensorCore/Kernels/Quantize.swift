/// The integer kernels of int8 inference around `Int8GEMM`: quantizing, requantizing the
/// int32 sums to the next layer's 7-bit activations, and the NHWC im2col and max pooling on
/// bytes. Activations are q = clamp(round(x / scale) + zeroPoint, 0, 127), x ≈ scale·(q - zeroPoint).
public enum Quantize {
    /// The largest 7-bit activation (see `Int8GEMM` for why 7 bits).
    public static let activationMax: Int32 = 127

    /// v clamped to [low, top] and rounded to the nearest integer (ties to even), as a byte.
    ///
    /// Adding 1.5·2^23 leaves the rounded integer in the low mantissa bits: unlike `UInt8(v)`,
    /// which checks its range, this vectorises.
    @inline(__always)
    static func byte(_ v: Float, low: Float, top: Float) -> UInt8 {
        UInt8(truncatingIfNeeded: (min(max(v, low), top) + 12_582_912).bitPattern)
    }

    /// Activation parameters covering [low, high] (widened to include 0, so zero padding and
    /// ReLU's zero are exact).
    /// - Returns: scale and zero point.
    public static func activationParameters(low: Float, high: Float) -> (scale: Float, zeroPoint: Int32) {
        let lo = min(low, 0), hi = max(high, 0)
        let scale = hi > lo ? (hi - lo) / Float(activationMax) : 1
        let zero = min(max(Int32((-lo / scale).rounded()), 0), activationMax)
        return (scale, zero)
    }

    /// Per-row symmetric int8 weights: scale[n] = max|w[n, :]| / 127, q = round(w / scale).
    /// - Parameters:
    ///   - w: (N, K) fp32.
    ///   - n: rows (outputs).
    ///   - k: columns.
    /// - Returns: the values (N·K) and one scale per row.
    public static func weightsPerRow(_ w: UnsafePointer<Float>, n: Int, k: Int) -> (values: [Int8], scales: [Float]) {
        var values = [Int8](repeating: 0, count: n * k), scales = [Float](repeating: 1, count: n)
        for row in 0..<n {
            let largest = (0..<k).reduce(Float(0)) { max($0, abs(w[row * k + $1])) }
            let scale = largest > 0 ? largest / 127 : 1
            scales[row] = scale
            for j in 0..<k { values[row * k + j] = Int8(min(max((w[row * k + j] / scale).rounded(), -127), 127)) }
        }
        return (values, scales)
    }

    /// fp32 to 7-bit activations.
    /// - Parameters:
    ///   - x: `count` values.
    ///   - out: `count` bytes.
    ///   - count: values.
    ///   - scale: the quantization step.
    ///   - zeroPoint: the byte that stands for 0.
    public static func activations(
        _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<UInt8>, count: Int, scale: Float, zeroPoint: Int32
    ) {
        let inverse = 1 / scale, zero = Float(zeroPoint), top = Float(activationMax)
        for i in 0..<count { out[i] = byte(x[i] * inverse + zero, low: 0, top: top) }
    }

    /// The int32 sums of a layer to the next layer's activations (see `Requantization`), over
    /// rows split among the threads.
    /// - Parameters:
    ///   - c: (M, N) int32 from `Int8GEMM.gemm`.
    ///   - out: (M, N) bytes.
    ///   - m: rows.
    ///   - r: the next layer's multipliers, offsets and zero point.
    public static func requantize(
        _ c: UnsafePointer<Int32>, _ out: UnsafeMutablePointer<UInt8>, m: Int, with r: Requantization
    ) {
        ThreadPool.shared.parallelFor(m, grain: max(1, 16384 / r.n)) { rows in r.apply(c, out, rows: rows) }
    }

    /// The int32 sums to fp32 outputs (a network's last layer): y = (c - zpA·colsum[n])·(sA·sW[n]) + bias[n].
    /// - Parameters:
    ///   - c: (M, N) int32.
    ///   - out: (M, N) fp32.
    ///   - m: rows.
    ///   - n: columns.
    ///   - inputZeroPoint: zpA, the activations' zero point.
    ///   - columnSums: colsum[n], each weight row's sum.
    ///   - multiplier: sA·sW[n].
    ///   - bias: bias[n], fp32.
    public static func dequantize(
        _ c: UnsafePointer<Int32>, _ out: UnsafeMutablePointer<Float>, m: Int, n: Int, inputZeroPoint: Int32,
        columnSums: [Int32], multiplier: [Float], bias: [Float]
    ) {
        for i in 0..<m {
            for j in 0..<n {
                out[i * n + j] = Float(c[i * n + j] &- columnSums[j] &* inputZeroPoint) * multiplier[j] + bias[j]
            }
        }
    }

    /// NCHW fp32 images to NHWC 7-bit activations (the layout the int8 convolutions read).
    /// - Parameters:
    ///   - x: (N, C, H, W).
    ///   - out: (N, H, W, C).
    ///   - n: images.
    ///   - c: channels.
    ///   - hw: pixels per channel (H·W).
    ///   - scale: the quantization step.
    ///   - zeroPoint: the byte that stands for 0.
    public static func imagesNHWC(
        _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<UInt8>, n: Int, c: Int, hw: Int, scale: Float,
        zeroPoint: Int32
    ) {
        let inverse = 1 / scale, zero = Float(zeroPoint), top = Float(activationMax)
        for b in 0..<n {
            for ch in 0..<c {
                let src = x + (b * c + ch) * hw, dst = out + b * hw * c + ch
                for p in 0..<hw { dst[p * c] = byte(src[p] * inverse + zero, low: 0, top: top) }
            }
        }
    }

    /// im2col on NHWC bytes: one row per output pixel, its patch in (kh, kw, c) order, padding
    /// filled with the zero point (the quantized 0), rows `lda` bytes apart.
    /// - Parameters:
    ///   - x: (N, H, W, C).
    ///   - out: (N·OH·OW, lda), lda >= KH·KW·C.
    ///   - n: images.
    ///   - c: channels.
    ///   - h: height.
    ///   - w: width.
    ///   - g: kernel size, stride, padding and dilation.
    ///   - lda: the row stride of `out` in bytes.
    ///   - zeroPoint: the padding byte.
    public static func im2colNHWC(
        _ x: UnsafePointer<UInt8>, _ out: UnsafeMutablePointer<UInt8>, n: Int, c: Int, h: Int, w: Int,
        geometry g: Conv2DGeometry, lda: Int, zeroPoint: Int32
    ) {
        let (oh, ow) = g.outputSize(h: h, w: w)
        ThreadPool.shared.parallelFor(n * oh * ow, grain: 256) { rows in
            im2colRows(
                rows, x, out + rows.lowerBound * lda, c: c, h: h, w: w, geometry: g, lda: lda, zeroPoint: zeroPoint)
        }
    }

    /// The patches of output pixels `rows` (counted over the whole batch) into `out`, the first at row 0.
    @inline(__always)
    static func im2colRows(
        _ rows: Range<Int>, _ x: UnsafePointer<UInt8>, _ out: UnsafeMutablePointer<UInt8>, c: Int, h: Int, w: Int,
        geometry g: Conv2DGeometry, lda: Int, zeroPoint: Int32
    ) {
        let (oh, ow) = g.outputSize(h: h, w: w)
        let pad = UInt8(zeroPoint), k = g.kernelH * g.kernelW * c
        let (kh, kw, sh, sw, ph, pw, dh, dw) = (
            g.kernelH, g.kernelW, g.strideH, g.strideW, g.padH, g.padW, g.dilationH, g.dilationW
        )
        // Byte loops rather than memcpy: the runs are short (KW·C bytes, 5 for LeNet's first layer).
        let run = kw * c
        // Position of the first row; later rows step through it without dividing.
        var b = rows.lowerBound / (oh * ow), y = rows.lowerBound / ow % oh, xo = rows.lowerBound % ow
        var row = out
        for _ in rows {
            let x0 = xo &* sw &- pw
            let inside = x0 >= 0 && x0 &+ (kw &- 1) &* dw < w
            for ky in 0..<kh {
                let iy = y &* sh &- ph &+ ky &* dh
                let dst = row + ky &* run
                if iy < 0 || iy >= h {
                    for j in 0..<run { dst[j] = pad }
                } else if inside && dw == 1 {
                    // The whole window row is one contiguous run of the input.
                    let src = x + ((b &* h &+ iy) &* w &+ x0) &* c
                    for j in 0..<run { dst[j] = src[j] }
                } else {
                    for kx in 0..<kw {
                        let ix = x0 &+ kx &* dw
                        let valid = ix >= 0 && ix < w
                        let src = x + ((b &* h &+ iy) &* w &+ (valid ? ix : 0)) &* c
                        for ch in 0..<c { dst[kx &* c &+ ch] = valid ? src[ch] : pad }
                    }
                }
            }
            for j in k..<lda { row[j] = 0 }
            row += lda
            xo += 1
            if xo == ow { xo = 0; y += 1; if y == oh { y = 0; b += 1 } }
        }
    }

    /// Max pooling on NHWC bytes (the quantization is monotonic, so the max of the bytes is
    /// the byte of the max). Padding never wins.
    /// - Parameters:
    ///   - x: (N, H, W, C).
    ///   - out: (N, OH, OW, C).
    ///   - n: images.
    ///   - c: channels.
    ///   - h: height.
    ///   - w: width.
    ///   - g: window size, stride and padding.
    public static func maxPoolNHWC(
        _ x: UnsafePointer<UInt8>, _ out: UnsafeMutablePointer<UInt8>, n: Int, c: Int, h: Int, w: Int,
        geometry g: Conv2DGeometry
    ) {
        let (oh, ow) = g.outputSize(h: h, w: w)
        for b in 0..<n {
            for y in 0..<oh {
                for xo in 0..<ow {
                    let dst = out + ((b * oh + y) * ow + xo) * c
                    dst.update(repeating: 0, count: c)
                    for ky in 0..<g.kernelH {
                        let iy = y * g.strideH - g.padH + ky * g.dilationH
                        guard iy >= 0 && iy < h else { continue }
                        for kx in 0..<g.kernelW {
                            let ix = xo * g.strideW - g.padW + kx * g.dilationW
                            guard ix >= 0 && ix < w else { continue }
                            let src = x + ((b * h + iy) * w + ix) * c
                            for ch in 0..<c { dst[ch] = max(dst[ch], src[ch]) }
                        }
                    }
                }
            }
        }
    }
}

/// Int32 sums to the next layer's 7-bit activations, with the bias and optionally ReLU fused:
/// y = (c - zpA·colsum[n])·(sA·sW[n]) + bias[n], q = clamp(round(y / sOut) + zOut, lo, 127).
///
/// The per-column factors are repeated over a period of whole rows at least 64 values long, so
/// a layer with 6 columns still runs one vectorised loop rather than many 6-long ones.
public struct Requantization: Sendable {
    public let n: Int
    let periodRows: Int
    let multiplier: [Float], shift: [Float]
    let low: Float, top: Float

    /// - Parameters:
    ///   - n: columns (output channels).
    ///   - inputZeroPoint: the input's zero point, removed from the sums with `columnSums`.
    ///   - columnSums: each weight row's sum.
    ///   - multiplier: sA·sW[n] / sOut per column.
    ///   - offset: bias[n] / sOut + zOut per column.
    ///   - outputZeroPoint: zOut, the next layer's zero point.
    ///   - relu: clamp below at zOut (the quantized zero) instead of 0.
    public init(
        n: Int, inputZeroPoint: Int32, columnSums: [Int32], multiplier: [Float], offset: [Float],
        outputZeroPoint: Int32, relu: Bool
    ) {
        self.n = n
        periodRows = max(1, (64 + n - 1) / n)
        // The zero point's share folds into the offset: y = c·mult + (offset - zpA·colsum·mult).
        let shift = (0..<n).map { offset[$0] - Float(columnSums[$0] &* inputZeroPoint) * multiplier[$0] }
        self.multiplier = (0..<periodRows).flatMap { _ in multiplier }
        self.shift = (0..<periodRows).flatMap { _ in shift }
        (low, top) = (Float(relu ? outputZeroPoint : 0), Float(Quantize.activationMax))
    }

    /// Rows `rows` of c (M, n) int32 into the same rows of out (M, n) bytes.
    public func apply(_ c: UnsafePointer<Int32>, _ out: UnsafeMutablePointer<UInt8>, rows: Range<Int>) {
        multiplier.withUnsafeBufferPointer { m in
            shift.withUnsafeBufferPointer { s in
                let (mult, add, low, top) = (m.baseAddress!, s.baseAddress!, low, top)
                var i = rows.lowerBound
                while i < rows.upperBound {
                    let count = min(periodRows, rows.upperBound - i) * n
                    let src = c + i * n, dst = out + i * n
                    for j in 0..<count { dst[j] = Quantize.byte(Float(src[j]) * mult[j] + add[j], low: low, top: top) }
                    i += periodRows
                }
            }
        }
    }
}
