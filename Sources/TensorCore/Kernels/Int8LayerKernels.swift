/// The loops around `Int8GEMM` of int8 inside a layer (the per-layer int8 of linear layers and
/// convolutions, fp32 on both sides): gathering a group's channels into NHWC bytes,
/// dequantizing int32 sums to fp32 rows or NCHW planes, and depthwise convolution on bytes.
public enum Int8LayerKernels {
    /// One group's channels of NCHW bytes as NHWC bytes.
    /// - Parameters:
    ///   - x: (N, C, H·W) bytes.
    ///   - out: (N, H·W, channels) bytes.
    ///   - n: images.
    ///   - c: all channels.
    ///   - hw: pixels per channel.
    ///   - first: the group's first channel.
    ///   - channels: the group's channels.
    public static func gatherNHWC(
        _ x: UnsafePointer<UInt8>, _ out: UnsafeMutablePointer<UInt8>, n: Int, c: Int, hw: Int, first: Int,
        channels: Int
    ) {
        ThreadPool.shared.parallelFor(n) { images in
            for b in images {
                for ch in 0..<channels {
                    let source = x + (b * c + first + ch) * hw, target = out + b * hw * channels + ch
                    for p in 0..<hw { target[p * channels] = source[p] }
                }
            }
        }
    }

    /// The fp32 value of int32 sums: (sum - corrections[j])·scales[j] + bias[j].
    /// - Parameters:
    ///   - sums: (rows, n) int32.
    ///   - out: where row r, column j goes: `out[r·n + j]` (rows), or for NCHW planes of `pixels`
    ///     positions per image `out[(r / pixels)·imageStride + j·pixels + r % pixels]`.
    ///   - rows: rows of sums.
    ///   - n: columns.
    ///   - corrections: zero point · column sum, per column.
    ///   - scales: input scale · weight scale, per column.
    ///   - bias: per column.
    ///   - planes: nil for rows; (pixels per image, the stride between images) for NCHW.
    public static func dequantize(
        _ sums: UnsafePointer<Int32>, _ out: UnsafeMutablePointer<Float>, rows: Int, n: Int, corrections: [Int32],
        scales: [Float], bias: [Float], planes: (pixels: Int, imageStride: Int)?
    ) {
        corrections.withUnsafeBufferPointer { corrections in
            scales.withUnsafeBufferPointer { scales in
                bias.withUnsafeBufferPointer { bias in
                    ThreadPool.shared.parallelFor(rows, grain: max(1, 4096 / n)) { range in
                        for r in range {
                            let row = sums + r * n
                            if let planes {
                                let base = out + (r / planes.pixels) * planes.imageStride + r % planes.pixels
                                for j in 0..<n {
                                    base[j * planes.pixels] = Float(row[j] &- corrections[j]) * scales[j] + bias[j]
                                }
                            } else {
                                let base = out + r * n
                                for j in 0..<n { base[j] = Float(row[j] &- corrections[j]) * scales[j] + bias[j] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Depthwise convolution (groups = C, `multiplier` outputs per channel) of NCHW bytes,
    /// straight to fp32: Σ (x - zeroPoint)·w in int32 per output, padding contributing 0.
    /// - Parameters:
    ///   - x: (N, C, H, W) bytes.
    ///   - weights: (C·multiplier, KH·KW) int8.
    ///   - out: (N, C·multiplier, OH, OW) fp32.
    ///   - n: images.
    ///   - c: channels.
    ///   - h: height.
    ///   - w: width.
    ///   - multiplier: outputs per channel.
    ///   - g: kernel, stride, padding and dilation.
    ///   - zeroPoint: x's zero point.
    ///   - scales: input scale · weight scale, per output channel.
    ///   - bias: per output channel.
    public static func depthwise(
        _ x: UnsafePointer<UInt8>, weights: UnsafePointer<Int8>, _ out: UnsafeMutablePointer<Float>, n: Int, c: Int,
        h: Int, w: Int, multiplier: Int, geometry g: Conv2DGeometry, zeroPoint: Int32, scales: [Float], bias: [Float]
    ) {
        let (oh, ow) = g.outputSize(h: h, w: w), taps = g.kernelH * g.kernelW, outputs = c * multiplier
        scales.withUnsafeBufferPointer { scales in
            bias.withUnsafeBufferPointer { bias in
                ThreadPool.shared.parallelFor(n * outputs) { planes in
                    for plane in planes {
                        let (b, o) = (plane / outputs, plane % outputs), ch = o / multiplier
                        let source = x + (b * c + ch) * h * w, kernel = weights + o * taps
                        let target = out + plane * oh * ow
                        for oy in 0..<oh {
                            for ox in 0..<ow {
                                var sum: Int32 = 0
                                for ky in 0..<g.kernelH {
                                    let iy = oy * g.strideH - g.padH + ky * g.dilationH
                                    guard iy >= 0 && iy < h else { continue }
                                    for kx in 0..<g.kernelW {
                                        let ix = ox * g.strideW - g.padW + kx * g.dilationW
                                        guard ix >= 0 && ix < w else { continue }
                                        sum &+=
                                            (Int32(source[iy * w + ix]) &- zeroPoint)
                                            &* Int32(kernel[ky * g.kernelW + kx])
                                    }
                                }
                                target[oy * ow + ox] = Float(sum) * scales[o] + bias[o]
                            }
                        }
                    }
                }
            }
        }
    }
}
