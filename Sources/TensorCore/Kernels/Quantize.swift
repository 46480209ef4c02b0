/// The integer kernels of int8 inference around `Int8GEMM`: quantizing, requantizing the
/// int32 sums to the next layer's 7-bit activations, and the NHWC im2col and max pooling on
/// bytes. Activations are q = clamp(round(x / scale) + zeroPoint, 0, 127), x ≈ scale·(q - zeroPoint).
public enum Quantize {
    /// The largest 7-bit activation (see `Int8GEMM` for why 7 bits).
    public static let activationMax: Int32 = 127

    /// Activation parameters covering [low, high] (widened to include 0, so zero padding and
    /// ReLU's zero are exact).
    /// - Returns: scale and zero point.
    public static func activationParameters(low: Float, high: Float) -> (scale: Float, zeroPoint: Int32) {
        let lo = min(low, 0), hi = max(high, 0)
        let scale = hi > lo ? (hi - lo) / Float(activationMax) : 1
        let zero = Int32((-lo / scale).rounded()).clamped(to: 0...activationMax)
        return (scale, zero)
    }

    /// Per-row symmetric int8 weights: scale[n] = max|w[n, :]| / 127, q = round(w / scale).
    /// - Parameters:
    ///   - w: (N, K) fp32.
    /// - Returns: the values (N·K) and one scale per row.
    public static func weightsPerRow(_ w: UnsafePointer<Float>, n: Int, k: Int) -> (values: [Int8], scales: [Float]) {
        var values = [Int8](repeating: 0, count: n * k), scales = [Float](repeating: 1, count: n)
        for row in 0..<n {
            let largest = (0..<k).reduce(Float(0)) { max($0, abs(w[row * k + $1])) }
            let scale = largest > 0 ? largest / 127 : 1
            scales[row] = scale
            for j in 0..<k { values[row * k + j] = Int8((w[row * k + j] / scale).rounded().clamped(to: -127...127)) }
        }
        return (values, scales)
    }

    /// fp32 to 7-bit activations.
    /// - Parameters:
    ///   - x: `count` values.
    ///   - out: `count` bytes.
    public static func activations(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<UInt8>, count: Int, scale: Float, zeroPoint: Int32) {
        let inverse = 1 / scale, zero = Float(zeroPoint), top = Float(activationMax)
        for i in 0..<count { out[i] = UInt8((x[i] * inverse + zero).rounded().clamped(to: 0...top)) }
    }

    /// The int32 sums of a layer to the next layer's activations, with the bias and optionally
    /// ReLU: y = (c - zpA·colsum[n])·(sA·sW[n]) + bias[n], q = clamp(round(y / sOut) + zOut).
    /// - Parameters:
    ///   - c: (M, N) int32 from `Int8GEMM.gemm`.
    ///   - out: (M, N) bytes.
    ///   - multiplier: sA·sW[n] / sOut per column.
    ///   - offset: bias[n] / sOut + zOut per column.
    ///   - relu: clamp below at zOut (the quantized zero) instead of 0.
    public static func requantize(_ c: UnsafePointer<Int32>, _ out: UnsafeMutablePointer<UInt8>, m: Int, n: Int, inputZeroPoint: Int32,
                                  columnSums: [Int32], multiplier: [Float], offset: [Float], outputZeroPoint: Int32, relu: Bool) {
        let low = Float(relu ? outputZeroPoint : 0), top = Float(activationMax)
        let correction = columnSums.map { $0 &* inputZeroPoint }
        ThreadPool.shared.parallelFor(m, grain: max(1, 16384 / max(n, 1))) { rows in
            for i in rows {
                for j in 0..<n {
                    let y = Float(c[i * n + j] &- correction[j]) * multiplier[j] + offset[j]
                    out[i * n + j] = UInt8(y.rounded().clamped(to: low...top))
                }
            }
        }
    }

    /// The int32 sums to fp32 outputs (a network's last layer): y = (c - zpA·colsum[n])·(sA·sW[n]) + bias[n].
    /// - Parameters:
    ///   - c: (M, N) int32.
    ///   - out: (M, N) fp32.
    ///   - multiplier: sA·sW[n].
    public static func dequantize(_ c: UnsafePointer<Int32>, _ out: UnsafeMutablePointer<Float>, m: Int, n: Int, inputZeroPoint: Int32,
                                  columnSums: [Int32], multiplier: [Float], bias: [Float]) {
        for i in 0..<m {
            for j in 0..<n { out[i * n + j] = Float(c[i * n + j] &- columnSums[j] &* inputZeroPoint) * multiplier[j] + bias[j] }
        }
    }

    /// NCHW fp32 images to NHWC 7-bit activations (the layout the int8 convolutions read).
    /// - Parameters:
    ///   - x: (N, C, H, W).
    ///   - out: (N, H, W, C).
    public static func imagesNHWC(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<UInt8>, n: Int, c: Int, hw: Int, scale: Float, zeroPoint: Int32) {
        let inverse = 1 / scale, zero = Float(zeroPoint), top = Float(activationMax)
        for b in 0..<n {
            for ch in 0..<c {
                let src = x + (b * c + ch) * hw, dst = out + b * hw * c + ch
                for p in 0..<hw { dst[p * c] = UInt8((src[p] * inverse + zero).rounded().clamped(to: 0...top)) }
            }
        }
    }

    /// im2col on NHWC bytes: one row per output pixel, its patch in (kh, kw, c) order, padding
    /// filled with the zero point (the quantized 0), rows `lda` bytes apart.
    /// - Parameters:
    ///   - x: (N, H, W, C).
    ///   - out: (N·OH·OW, lda), lda >= KH·KW·C.
    public static func im2colNHWC(_ x: UnsafePointer<UInt8>, _ out: UnsafeMutablePointer<UInt8>, n: Int, c: Int, h: Int, w: Int,
                                  geometry g: Conv2DGeometry, lda: Int, zeroPoint: Int32) {
        let (oh, ow) = g.outputSize(h: h, w: w)
        let pad = UInt8(zeroPoint), k = g.kernelH * g.kernelW * c
        ThreadPool.shared.parallelFor(n * oh, grain: 8) { rows in
            for r in rows {
                let b = r / oh, y = r % oh
                for xo in 0..<ow {
                    var dst = out + ((b * oh + y) * ow + xo) * lda
                    for ky in 0..<g.kernelH {
                        let iy = y * g.strideH - g.padH + ky * g.dilationH
                        for kx in 0..<g.kernelW {
                            let ix = xo * g.strideW - g.padW + kx * g.dilationW
                            if iy < 0 || iy >= h || ix < 0 || ix >= w {
                                dst.update(repeating: pad, count: c)
                            } else {
                                dst.update(from: x + ((b * h + iy) * w + ix) * c, count: c)
                            }
                            dst += c
                        }
                    }
                    dst.update(repeating: 0, count: lda - k)
                }
            }
        }
    }

    /// Max pooling on NHWC bytes (the quantization is monotonic, so the max of the bytes is
    /// the byte of the max). Padding never wins.
    /// - Parameters:
    ///   - x: (N, H, W, C).
    ///   - out: (N, OH, OW, C).
    public static func maxPoolNHWC(_ x: UnsafePointer<UInt8>, _ out: UnsafeMutablePointer<UInt8>, n: Int, c: Int, h: Int, w: Int,
                                   geometry g: Conv2DGeometry) {
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

extension Comparable {
    @inline(__always)
    func clamped(to range: ClosedRange<Self>) -> Self { min(max(self, range.lowerBound), range.upperBound) }
}
