import Autograd

extension Int8Weights {
    /// The int8 linear layer: (..., in) fp32 to (..., out) fp32, int32 sums in between.
    /// - Parameter x: the fp32 input, its last axis `in` wide.
    public func linear(_ x: NDArray) -> NDArray {
        let weights = packed[0], k = weights.k, n = weights.n, m = x.count / k
        let lda = weights.paddedK
        let a = UnsafeMutablePointer<UInt8>.allocate(capacity: max(m * lda, 1))
        let sums = UnsafeMutablePointer<Int32>.allocate(capacity: max(m * n, 1))
        defer { a.deallocate(); sums.deallocate() }
        if lda == k {
            Quantize.activations(x.ptr, a, count: m * k, scale: inputScale, zeroPoint: inputZeroPoint)
        } else {  // rows padded to whole groups of 4 bytes, the padding multiplied by zero weights
            for r in 0..<m {
                Quantize.activations(x.ptr + r * k, a + r * lda, count: k, scale: inputScale, zeroPoint: inputZeroPoint)
                (a + r * lda + k).update(repeating: 0, count: lda - k)
            }
        }
        Int8GEMM.gemm(m: m, a: a, lda: lda, w: weights, c: sums)
        let out = NDArray(shape: Shape(Array(x.shape.dims.dropLast()) + [n]), zeroed: false)
        dequantize(sums, rows: m, group: 0, into: out.ptr, planes: nil)
        return out
    }

    /// The int8 convolution: (N, C, H, W) fp32 to (N, OC, OH, OW) fp32, group by group, as an
    /// im2col of NHWC bytes and one int8 GEMM per group and block of images.
    /// - Parameters:
    ///   - x: the fp32 input.
    ///   - geometry: kernel, stride, padding and dilation.
    public func conv2d(_ x: NDArray, geometry: Conv2DGeometry) -> NDArray {
        let (batch, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (cg, ocg, hw) = (c / groups, outputs / groups, h * w)
        let (oh, ow) = geometry.outputSize(h: h, w: w)
        let out = NDArray(shape: [batch, outputs, oh, ow], zeroed: false)
        guard batch > 0, oh > 0, ow > 0 else { return out }
        // Bytes in NCHW order first; each group's channels are then gathered into NHWC.
        let nchw = UnsafeMutablePointer<UInt8>.allocate(capacity: x.count)
        defer { nchw.deallocate() }
        Quantize.activations(x.ptr, nchw, count: x.count, scale: inputScale, zeroPoint: inputZeroPoint)
        if groups > 1 && cg == 1 {  // depthwise: a direct loop, where a GEMM would fill 1 of 16 lanes
            Int8LayerKernels.depthwise(
                nchw, weights: values.storage.raw.assumingMemoryBound(to: Int8.self), out.ptr, n: batch, c: c, h: h,
                w: w, multiplier: ocg, geometry: geometry, zeroPoint: inputZeroPoint, scales: sumScales, bias: bias)
            return out
        }
        // Images per block: about 16k patch rows, so the patches stay a few MB.
        let imagesPerBlock = max(1, min(batch, 16384 / (oh * ow)))
        let lda = packed[0].paddedK, ohw = oh * ow
        let nhwc = UnsafeMutablePointer<UInt8>.allocate(capacity: imagesPerBlock * hw * cg)
        let patches = UnsafeMutablePointer<UInt8>.allocate(capacity: imagesPerBlock * ohw * lda)
        let sums = UnsafeMutablePointer<Int32>.allocate(capacity: imagesPerBlock * ohw * ocg)
        defer { nhwc.deallocate(); patches.deallocate(); sums.deallocate() }
        for first in stride(from: 0, to: batch, by: imagesPerBlock) {
            let images = min(imagesPerBlock, batch - first)
            for group in 0..<groups {
                Int8LayerKernels.gatherNHWC(
                    nchw + first * c * hw, nhwc, n: images, c: c, hw: hw, first: group * cg, channels: cg)
                Quantize.im2colNHWC(
                    nhwc, patches, n: images, c: cg, h: h, w: w, geometry: geometry, lda: lda, zeroPoint: inputZeroPoint
                )
                Int8GEMM.gemm(m: images * ohw, a: patches, lda: lda, w: packed[group], c: sums)
                dequantize(
                    sums, rows: images * ohw, group: group, into: out.ptr + (first * outputs + group * ocg) * ohw,
                    planes: (ohw, outputs * ohw))
            }
        }
        return out
    }
}
