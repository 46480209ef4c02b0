/// An int8 convolution on NHWC bytes as an implicit GEMM in blocks: each block of output
/// pixels is unfolded into a buffer that stays in cache, multiplied by the packed weights and
/// requantized before the next block, so the patches never travel through memory.
public enum Int8Convolution {
    /// Output pixels per block: 128 rows of patches and sums stay within L2 for any layer here.
    static let blockRows = 128

    /// - Parameters:
    ///   - x: (N, H, W, C) 7-bit activations.
    ///   - n: images.
    ///   - c: input channels.
    ///   - h: height.
    ///   - w: width.
    ///   - g: kernel size, stride, padding and dilation.
    ///   - weights: (OC, KH·KW·C) packed, k in (kh, kw, c) order.
    ///   - inputZeroPoint: x's zero point (the padding value).
    ///   - requantization: to the next layer's activations.
    ///   - out: (N, OH, OW, OC) bytes.
    public static func forward(
        _ x: UnsafePointer<UInt8>, n: Int, c: Int, h: Int, w: Int, geometry g: Conv2DGeometry,
        weights: PackedInt8Weights, inputZeroPoint: Int32, requantization: Requantization,
        out: UnsafeMutablePointer<UInt8>
    ) {
        let (oh, ow) = g.outputSize(h: h, w: w)
        let rows = n * oh * ow, lda = weights.paddedK, blocks = (rows + blockRows - 1) / blockRows
        ThreadPool.shared.parallelFor(blocks) { range in
            let patches = UnsafeMutablePointer<UInt8>.allocate(capacity: blockRows * lda)
            let sums = UnsafeMutablePointer<Int32>.allocate(capacity: blockRows * weights.n)
            defer { patches.deallocate(); sums.deallocate() }
            for block in range {
                let first = block * blockRows, count = min(blockRows, rows - first)
                Quantize.im2colRows(
                    first..<first + count, x, patches, c: c, h: h, w: w, geometry: g, lda: lda,
                    zeroPoint: inputZeroPoint)
                Int8GEMM.rows(0..<count, a: patches, lda: lda, w: weights, c: sums)
                requantization.apply(sums, out + first * weights.n, rows: 0..<count)
            }
        }
    }
}
