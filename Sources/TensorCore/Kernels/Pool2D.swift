import _Builtin_intrinsics.intel
import CSupport

/// Max and average pooling over (N, C, H, W), with their backward passes.
public enum Pool2D {
    static func planes(_ x: NDArray) -> (Int, Int, Int) {
        precondition(x.rank == 4, "pooling input must be (N, C, H, W), got \(x.shape)")
        return (x.shape[0] * x.shape[1], x.shape[2], x.shape[3])
    }

    static func checkPadding(_ g: Conv2DGeometry) {
        precondition(
            g.padH * 2 <= g.kernelH && g.padW * 2 <= g.kernelW,
            "pool padding (\(g.padH), \(g.padW)) must be at most half the kernel (\(g.kernelH), \(g.kernelW))")
    }

    /// The max of each window of one plane whose windows all lie inside it, 8 outputs at a
    /// time: a gather per window element, then a compare and two blends. The branch per
    /// element this replaces mispredicted on random data: 1.7 ms of LeNet-5's 7.4 ms step.
    /// The last 8 outputs overlap the previous ones (there are at least 8).
    /// - Parameters:
    ///   - src: the plane (H, W).
    ///   - starts: (OH·OW) each output's window's first element in the plane.
    ///   - out, indices: (OH·OW) the max and its flat index in the plane.
    @inline(__always)
    static func maxWindows8(
        _ src: UnsafePointer<Float>, starts: UnsafeBufferPointer<Int32>, w: Int, _ g: Conv2DGeometry,
        out: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int32>
    ) {
        let count = starts.count
        var o = 0
        while o < count {
            let o0 = min(o, count - 8)
            let first = UnsafeRawPointer(starts.baseAddress! + o0).loadUnaligned(as: SIMD8<Int32>.self)
            var best = tandem_gather8(src, unsafeBitCast(first, to: __m256i.self))
            var index = unsafeBitCast(first, to: __m256i.self)
            for ki in 0..<g.kernelH {
                for kj in 0..<g.kernelW where ki > 0 || kj > 0 {
                    let at = unsafeBitCast(first &+ Int32(ki * w + kj), to: __m256i.self), v = tandem_gather8(src, at)
                    let takes = tandem_max_takes(v, best)  // the last NaN's index wins, as in the scalar loop
                    best = _mm256_blendv_ps(best, v, takes)
                    index = _mm256_castps_si256(
                        _mm256_blendv_ps(_mm256_castsi256_ps(index), _mm256_castsi256_ps(at), takes))
                }
            }
            UnsafeMutableRawPointer(out + o0).storeBytes(of: best, as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(indices + o0).storeBytes(
                of: unsafeBitCast(index, to: SIMD8<Int32>.self), as: SIMD8<Int32>.self)
            o += 8
        }
    }

    /// Max pooling; returns the output and, per output, the flat index of the max in its plane.
    /// A 16-bit x gives a 16-bit output (a max is one of its inputs: nothing is rounded),
    /// widened a plane at a time.
    public static func maxForward(_ x: NDArray, _ g: Conv2DGeometry, ceilMode: Bool = false) -> (NDArray, NDArray) {
        checkPadding(g)
        let (planes, h, w) = Self.planes(x)
        let (oh, ow) = g.outputSize(h: h, w: w, ceilMode: ceilMode)
        precondition(oh > 0 && ow > 0, "max_pool2d: input \(x.shape) is smaller than the window \(g)")
        let y = NDArray(shape: [x.shape[0], x.shape[1], oh, ow], dtype: x.dtype, zeroed: false)
        let idx = NDArray(shape: y.shape, dtype: .int32, zeroed: false)
        let xs = RowAccess(x), ys = RowAccess(y), ip = idx.int32Pointer
        // Every window inside the plane (no padding or dilation, floor mode: LeNet's and most
        // CNNs' pools) and at least 8 outputs: 8 windows at a time, without bounds checks.
        let inside =
            g.padH == 0 && g.padW == 0 && g.dilationH == 1 && g.dilationW == 1
            && (oh - 1) * g.strideH + g.kernelH <= h && (ow - 1) * g.strideW + g.kernelW <= w
        let windowStarts =
            inside && oh * ow >= 8
            ? (0..<oh * ow).map { o in Int32(o / ow * g.strideH * w + o % ow * g.strideW) } : nil
        ThreadPool.shared.parallelFor(planes, grain: max(1, 4096 / max(oh * ow, 1))) { r in
            RowAccess.withScratch(1, h * w + oh * ow) { scratch in
                for pl in r {
                    let src = xs.load(pl * h * w, h * w, scratch), out = ys.target(pl * oh * ow, scratch + h * w)
                    let indices = ip + pl * oh * ow
                    if let windowStarts {
                        windowStarts.withUnsafeBufferPointer {
                            maxWindows8(src, starts: $0, w: w, g, out: out, indices: indices)
                        }
                    } else {
                        for oy in 0..<oh {
                            for ox in 0..<ow {
                                var best = -Float.infinity, bi = -1
                                for ki in 0..<g.kernelH {
                                    let iy = oy * g.strideH - g.padH + ki * g.dilationH
                                    if iy < 0 || iy >= h { continue }
                                    for kj in 0..<g.kernelW {
                                        let ix = ox * g.strideW - g.padW + kj * g.dilationW
                                        if ix < 0 || ix >= w { continue }
                                        let v = src[iy * w + ix]
                                        if v > best || bi < 0 || v.isNaN { best = v; bi = iy * w + ix }
                                    }
                                }
                                out[oy * ow + ox] = best
                                indices[oy * ow + ox] = Int32(bi)
                            }
                        }
                    }
                    ys.store(pl * oh * ow, oh * ow, scratch + h * w)
                }
            }
        }
        return (y, idx)
    }

    /// dx: each output's gradient added at the position of its max.
    /// - Parameters:
    ///   - dy: (N, C, OH, OW), fp32 or 16-bit (widened a plane at a time).
    ///   - indices: the positions of the maxima, from the forward pass.
    ///   - inputShape: x's shape (N, C, H, W).
    ///   - output: dx's type; a 16-bit dx is summed in fp32 per plane and rounded once.
    public static func maxBackward(_ dy: NDArray, indices: NDArray, inputShape: Shape, output: DType = .float32)
        -> NDArray
    {
        let dx = NDArray(shape: inputShape, dtype: output)
        let planeIn = inputShape[2] * inputShape[3], planeOut = dy.shape[2] * dy.shape[3]
        let gs = RowAccess(dy), dxs = RowAccess(dx), ip = indices.int32Pointer
        ThreadPool.shared.parallelFor(inputShape[0] * inputShape[1], grain: 64) { r in
            RowAccess.withScratch(1, planeIn + planeOut) { scratch in
                for pl in r {
                    let g = gs.load(pl * planeOut, planeOut, scratch + planeIn), d = dxs.target(pl * planeIn, scratch)
                    if output != .float32 { d.update(repeating: 0, count: planeIn) }
                    for o in 0..<planeOut where ip[pl * planeOut + o] >= 0 { d[Int(ip[pl * planeOut + o])] += g[o] }
                    dxs.store(pl * planeIn, planeIn, scratch)
                }
            }
        }
        return dx
    }

    /// The window of output (oy, ox) clipped to the input, and its divisor (PyTorch's rules).
    @inline(__always)
    static func avgWindow(_ oy: Int, _ ox: Int, h: Int, w: Int, _ g: Conv2DGeometry, countIncludePad: Bool)
        -> (Int, Int, Int, Int, Float)
    {
        var y0 = oy * g.strideH - g.padH, x0 = ox * g.strideW - g.padW
        var y1 = min(y0 + g.kernelH, h + g.padH), x1 = min(x0 + g.kernelW, w + g.padW)
        let padded = (y1 - y0) * (x1 - x0)
        y0 = max(y0, 0); x0 = max(x0, 0); y1 = min(y1, h); x1 = min(x1, w)
        let div = countIncludePad ? padded : (y1 - y0) * (x1 - x0)
        return (y0, y1, x0, x1, Float(max(div, 1)))
    }

    /// Average pooling (no dilation, as in PyTorch's AvgPool2d).
    public static func avgForward(
        _ x: NDArray, _ g: Conv2DGeometry, ceilMode: Bool = false, countIncludePad: Bool = true
    ) -> NDArray {
        checkPadding(g)
        precondition(g.dilationH == 1 && g.dilationW == 1, "avg_pool2d has no dilation")
        let (planes, h, w) = Self.planes(x)
        let (oh, ow) = g.outputSize(h: h, w: w, ceilMode: ceilMode)
        precondition(oh > 0 && ow > 0, "avg_pool2d: input \(x.shape) is smaller than the window \(g)")
        let y = NDArray(shape: [x.shape[0], x.shape[1], oh, ow], zeroed: false)
        let xp = x.ptr, yp = y.ptr
        ThreadPool.shared.parallelFor(planes, grain: max(1, 4096 / max(oh * ow, 1))) { r in
            for pl in r {
                let src = xp + pl * h * w
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        let (y0, y1, x0, x1, div) = avgWindow(oy, ox, h: h, w: w, g, countIncludePad: countIncludePad)
                        var s: Float = 0
                        for iy in y0..<y1 { for ix in x0..<x1 { s += src[iy * w + ix] } }
                        yp[(pl * oh + oy) * ow + ox] = s / div
                    }
                }
            }
        }
        return y
    }

    /// dx: each output's gradient spread evenly over its window.
    public static func avgBackward(_ dy: NDArray, inputShape: Shape, _ g: Conv2DGeometry, countIncludePad: Bool = true)
        -> NDArray
    {
        let h = inputShape[2], w = inputShape[3], oh = dy.shape[2], ow = dy.shape[3]
        let dx = NDArray(shape: inputShape)
        let dyp = dy.ptr, dxp = dx.ptr
        ThreadPool.shared.parallelFor(inputShape[0] * inputShape[1], grain: 64) { r in
            for pl in r {
                let dst = dxp + pl * h * w
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        let (y0, y1, x0, x1, div) = avgWindow(oy, ox, h: h, w: w, g, countIncludePad: countIncludePad)
                        let v = dyp[(pl * oh + oy) * ow + ox] / div
                        for iy in y0..<y1 { for ix in x0..<x1 { dst[iy * w + ix] += v } }
                    }
                }
            }
        }
        return dx
    }
}
