/// The geometry of a 2-D convolution window, shared by conv, transposed conv and pooling.
public struct Conv2DGeometry: Equatable, Sendable, Codable {
    public var kernelH, kernelW: Int
    public var strideH = 1, strideW = 1
    public var padH = 0, padW = 0
    public var dilationH = 1, dilationW = 1

    public init(
        kernel: (Int, Int), stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1)
    ) {
        (kernelH, kernelW) = kernel
        (strideH, strideW) = stride
        (padH, padW) = padding
        (dilationH, dilationW) = dilation
        precondition(
            kernelH >= 1 && kernelW >= 1 && strideH >= 1 && strideW >= 1 && dilationH >= 1 && dilationW >= 1
                && padH >= 0 && padW >= 0,
            "invalid window: kernel \(kernel), stride \(stride), padding \(padding), dilation \(dilation)")
    }

    /// Output extent along one axis (floor, or ceil as PyTorch's ceil_mode).
    static func outExtent(_ size: Int, _ k: Int, _ s: Int, _ p: Int, _ d: Int, ceil: Bool) -> Int {
        let span = size + 2 * p - d * (k - 1) - 1
        if span < 0 { return 0 }
        var o = (ceil ? (span + s - 1) / s : span / s) + 1
        // In ceil mode the last window must start inside the input or its left padding.
        if ceil && (o - 1) * s >= size + p { o -= 1 }
        return o
    }

    /// Output height and width for an input of h x w.
    public func outputSize(h: Int, w: Int, ceilMode: Bool = false) -> (Int, Int) {
        (
            Conv2DGeometry.outExtent(h, kernelH, strideH, padH, dilationH, ceil: ceilMode),
            Conv2DGeometry.outExtent(w, kernelW, strideW, padW, dilationW, ceil: ceilMode)
        )
    }

    /// Output positions ox in [lo, hi) whose input column ox·s - p + kj·d lies in [0, w).
    @inline(__always)
    func validRange(out: Int, size: Int, k: Int, s: Int, p: Int, d: Int) -> (Int, Int) {
        let shift = k * d - p  // input index = o·s + shift
        var lo = shift >= 0 ? 0 : (-shift + s - 1) / s
        let last = size - 1 - shift  // o·s <= last
        var hi = last < 0 ? 0 : last / s + 1
        lo = min(lo, out); hi = min(max(hi, lo), out)
        return (lo, hi)
    }
}

/// im2col and col2im: the unfolding that turns a convolution into one GEMM.
public enum Im2Col {
    /// Visits every row of the unfolding: for each (channel, ki, kj, oy), the offset of its
    /// OW values in the column matrix, the offset of input row iy shifted so that output
    /// column ox reads `image[offset + ox·strideW]` (nil when iy lies in the padding), and the
    /// output columns [xlo, xhi) whose input column lies inside the image.
    @inline(__always)
    static func forEachRow(
        c: Int, h: Int, w: Int, _ g: Conv2DGeometry, oh: Int, ow: Int, ld: Int,
        _ body: (_ colOffset: Int, _ imageOffset: Int?, _ xlo: Int, _ xhi: Int) -> Void
    ) {
        for ch in 0..<c {
            for ki in 0..<g.kernelH {
                let (ylo, yhi) = g.validRange(out: oh, size: h, k: ki, s: g.strideH, p: g.padH, d: g.dilationH)
                for kj in 0..<g.kernelW {
                    let (xlo, xhi) = g.validRange(out: ow, size: w, k: kj, s: g.strideW, p: g.padW, d: g.dilationW)
                    let rowBase = ((ch * g.kernelH + ki) * g.kernelW + kj) * ld
                    for oy in 0..<oh {
                        let iy = oy * g.strideH - g.padH + ki * g.dilationH
                        let image = oy >= ylo && oy < yhi ? (ch * h + iy) * w - g.padW + kj * g.dilationW : nil
                        body(rowBase + oy * ow, image, xlo, xhi)
                    }
                }
            }
        }
    }

    /// Unfolds one image (C, H, W) into columns (C·KH·KW, OH·OW).
    /// - Parameters:
    ///   - x: the image's first element.
    ///   - c: channels.
    ///   - h: height.
    ///   - w: width.
    ///   - g: kernel size, stride, padding and dilation.
    ///   - oh: output height.
    ///   - ow: output width.
    ///   - col: the column matrix to write.
    ///   - ld: row stride of `col`; larger than OH·OW when several images share one
    ///     column matrix side by side (one GEMM for a batch of images).
    public static func im2col(
        _ x: UnsafePointer<Float>, c: Int, h: Int, w: Int, _ g: Conv2DGeometry,
        oh: Int, ow: Int, into col: UnsafeMutablePointer<Float>, ld: Int? = nil
    ) {
        let sw = g.strideW
        forEachRow(c: c, h: h, w: w, g, oh: oh, ow: ow, ld: ld ?? oh * ow) { colOffset, imageOffset, xlo, xhi in
            let row = col + colOffset
            guard let imageOffset else { row.update(repeating: 0, count: ow); return }
            let src = x + imageOffset
            for ox in 0..<xlo { row[ox] = 0 }
            if sw == 1 {
                (row + xlo).update(from: src + xlo, count: xhi - xlo)
            } else {
                for ox in xlo..<xhi { row[ox] = src[ox * sw] }
            }
            for ox in xhi..<ow { row[ox] = 0 }
        }
    }

    /// Folds columns (C·KH·KW, OH·OW) back onto an image (C, H, W), adding overlaps.
    /// - Parameters:
    ///   - col: the column matrix.
    ///   - c: channels.
    ///   - h: height.
    ///   - w: width.
    ///   - g: kernel size, stride, padding and dilation.
    ///   - oh: output height.
    ///   - ow: output width.
    ///   - x: the image (C, H, W) to fold the columns onto.
    ///   - ld: row stride of `col` (see `im2col`).
    public static func col2im(
        _ col: UnsafePointer<Float>, c: Int, h: Int, w: Int, _ g: Conv2DGeometry,
        oh: Int, ow: Int, into x: UnsafeMutablePointer<Float>, ld: Int? = nil
    ) {
        let sw = g.strideW
        forEachRow(c: c, h: h, w: w, g, oh: oh, ow: ow, ld: ld ?? oh * ow) { colOffset, imageOffset, xlo, xhi in
            guard let imageOffset else { return }
            let row = col + colOffset, dst = x + imageOffset
            for ox in xlo..<xhi { dst[ox * sw] += row[ox] }
        }
    }
}
