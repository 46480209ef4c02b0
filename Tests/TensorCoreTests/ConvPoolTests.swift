@testable import TensorCore
import Testing

/// Direct 7-loop convolution in Double.
func naiveConv(_ x: NDArray, _ w: NDArray, _ b: NDArray?, _ g: Conv2DGeometry, groups: Int) -> (Shape, [Double]) {
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let oc = w.shape[0], cg = c / groups, ocg = oc / groups
    let (oh, ow) = g.outputSize(h: h, w: wd)
    let xs = x.scalars, ws = w.scalars, bs = b?.scalars
    var out = [Double](repeating: 0, count: n * oc * oh * ow)
    for i in 0..<n {
        for o in 0..<oc {
            for y in 0..<oh {
                for xo in 0..<ow {
                    var s = Double(bs?[o] ?? 0)
                    let grp = o / ocg
                    for ci in 0..<cg {
                        for ki in 0..<g.kernelH {
                            for kj in 0..<g.kernelW {
                                let iy: Int = y * g.strideH - g.padH + ki * g.dilationH
                                let ix: Int = xo * g.strideW - g.padW + kj * g.dilationW
                                if iy < 0 || iy >= h || ix < 0 || ix >= wd { continue }
                                let xi: Int = ((i * c + grp * cg + ci) * h + iy) * wd + ix
                                let wi: Int = ((o * cg + ci) * g.kernelH + ki) * g.kernelW + kj
                                s += Double(xs[xi]) * Double(ws[wi])
                            }
                        }
                    }
                    out[((i * oc + o) * oh + y) * ow + xo] = s
                }
            }
        }
    }
    return (Shape([n, oc, oh, ow]), out)
}

/// Transposed convolution by its definition: every input pixel scatters a weighted kernel.
func naiveConvTranspose(_ x: NDArray, _ w: NDArray, _ g: Conv2DGeometry, groups: Int, outPad: (Int, Int)) -> (
    Shape, [Double]
) {
    let (n, cin, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let coutg = w.shape[1], cout = coutg * groups, cing = cin / groups
    let oh = (h - 1) * g.strideH - 2 * g.padH + g.dilationH * (g.kernelH - 1) + outPad.0 + 1
    let ow = (wd - 1) * g.strideW - 2 * g.padW + g.dilationW * (g.kernelW - 1) + outPad.1 + 1
    let xs = x.scalars, ws = w.scalars
    var out = [Double](repeating: 0, count: n * cout * oh * ow)
    for i in 0..<n {
        for ci in 0..<cin {
            for y in 0..<h {
                for xx in 0..<wd {
                    let grp = ci / cing, v = Double(xs[((i * cin + ci) * h + y) * wd + xx])
                    for co in 0..<coutg {
                        for ki in 0..<g.kernelH {
                            for kj in 0..<g.kernelW {
                                let oy: Int = y * g.strideH - g.padH + ki * g.dilationH
                                let ox: Int = xx * g.strideW - g.padW + kj * g.dilationW
                                if oy < 0 || oy >= oh || ox < 0 || ox >= ow { continue }
                                let oi: Int = ((i * cout + grp * coutg + co) * oh + oy) * ow + ox
                                let wi: Int = ((ci * coutg + co) * g.kernelH + ki) * g.kernelW + kj
                                out[oi] += v * Double(ws[wi])
                            }
                        }
                    }
                }
            }
        }
    }
    return (Shape([n, cout, oh, ow]), out)
}

@Suite("Convolution and pooling against naive references")
struct ConvPoolTests {
    @Test func conv2dRandomConfigurations() {
        var r = Rand(21)
        for trial in 0..<40 {
            let groups = [1, 1, 2, 3][trial % 4]
            let cg = r.int(1...3), ocg = r.int(1...3)
            let k = (r.int(1...4), r.int(1...3))
            let g = Conv2DGeometry(
                kernel: k, stride: (r.int(1...3), r.int(1...2)), padding: (r.int(0...2), r.int(0...1)),
                dilation: (r.int(1...2), r.int(1...2)))
            let h = r.int(k.0 * g.dilationH...12), w = r.int(k.1 * g.dilationW...11)
            let x = r.array([r.int(1...3), cg * groups, h, w]), wt = r.array([ocg * groups, cg, k.0, k.1])
            let b = trial % 2 == 0 ? r.array([ocg * groups]) : nil
            let y = Conv2D.forward(x, wt, bias: b, g, groups: groups)
            let (shape, ref) = naiveConv(x, wt, b, g, groups: groups)
            #expect(y.shape == shape, "conv shape \(y.shape) vs \(shape)")
            expectClose(y, ref, tol: 1e-5, "conv2d trial \(trial) \(g) groups \(groups)")
        }
    }

    /// 16-bit inputs and weights (widened while unfolded and packed) give the conv of their
    /// widened values, forward and both gradients, on random configurations.
    @Test(arguments: [DType.float16, .bfloat16])
    func conv2dHalfInputsMatchTheirWidenedValues(dtype: DType) {
        var r = Rand(23)
        for trial in 0..<20 {
            let groups = [1, 2][trial % 2]
            let cg = r.int(1...3), ocg = r.int(1...3)
            let k = (r.int(1...4), r.int(1...3))
            let g = Conv2DGeometry(
                kernel: k, stride: (r.int(1...2), r.int(1...2)), padding: (r.int(0...2), r.int(0...1)))
            let h = r.int(k.0...11), w = r.int(k.1...10)
            let x = r.array([r.int(1...3), cg * groups, h, w]).converted(to: dtype)
            let wt = r.array([ocg * groups, cg, k.0, k.1]).converted(to: dtype)
            let y = Conv2D.forward(x, wt, bias: nil, g, groups: groups)
            let (shape, ref) = naiveConv(x.float32, wt.float32, nil, g, groups: groups)
            #expect(y.shape == shape && y.dtype == .float32)
            expectClose(y, ref, tol: 1e-5, "\(dtype) conv2d trial \(trial)")
            let dy = r.array(y.shape)
            let (dx, dw, _) = Conv2D.backward(dy, x: x, w: wt, hasBias: false, g, groups: groups)
            let (dx32, dw32, _) = Conv2D.backward(dy, x: x.float32, w: wt.float32, hasBias: false, g, groups: groups)
            expectClose(dx!, dx32!.scalars.map(Double.init), tol: 1e-5, "\(dtype) dx trial \(trial)")
            expectClose(dw, dw32.scalars.map(Double.init), tol: 1e-5, "\(dtype) dw trial \(trial)")
        }
    }

    @Test func conv2dDepthwiseAndMultithreadedBatch() {
        var r = Rand(22)
        let g = Conv2DGeometry(kernel: (3, 3), stride: (1, 1), padding: (1, 1))
        let x = r.array([9, 8, 10, 10]), w = r.array([8, 1, 3, 3]), b = r.array([8])
        let (_, ref) = naiveConv(x, w, b, g, groups: 8)
        expectClose(Conv2D.forward(x, w, bias: b, g, groups: 8), ref, tol: 1e-5, "depthwise")
    }

    @Test func chunkBoundariesDoNotChangeResults() {
        var r = Rand(26)
        let g = Conv2DGeometry(kernel: (3, 3), stride: (1, 1), padding: (1, 1))
        let x = r.array([7, 4, 5, 6]), w = r.array([6, 2, 3, 3]), dy = r.array([7, 6, 5, 6])
        let (_, ref) = naiveConv(x, w, nil, g, groups: 2)
        let whole = Conv2D.backward(dy, x: x, w: w, hasBias: false, g, groups: 2)
        let saved = Conv2D.chunkElements
        Conv2D.chunkElements = 2 * 18 * 30  // two images per GEMM, so 7 images end in a partial chunk
        defer { Conv2D.chunkElements = saved }
        expectClose(Conv2D.forward(x, w, bias: nil, g, groups: 2), ref, tol: 1e-5, "chunked conv forward")
        let chunked = Conv2D.backward(dy, x: x, w: w, hasBias: false, g, groups: 2)
        expectClose(chunked.0!, whole.0!.scalars.map(Double.init), tol: 1e-5, "chunked conv dx")
        expectClose(chunked.1, whole.1.scalars.map(Double.init), tol: 1e-5, "chunked conv dw")
        let tx = Conv2D.transposedForward(x, NDArray(shape: [4, 3, 3, 3]), bias: nil, g, groups: 2)
        #expect(tx.shape == [7, 6, 5, 6])
    }

    @Test func convTransposeRandomConfigurations() {
        var r = Rand(23)
        for trial in 0..<30 {
            let groups = [1, 2][trial % 2]
            let k = (r.int(1...4), r.int(1...3))
            let g = Conv2DGeometry(
                kernel: k, stride: (r.int(1...3), r.int(1...2)), padding: (r.int(0...1), r.int(0...1)),
                dilation: (r.int(1...2), 1))
            let outPad = (r.int(0...(max(g.strideH, g.dilationH) - 1)), r.int(0...(max(g.strideW, g.dilationW) - 1)))
            let x = r.array([r.int(1...2), r.int(1...3) * groups, r.int(2...6), r.int(2...6)])
            let w = r.array([x.shape[1], r.int(1...3), k.0, k.1])
            let (shape, ref) = naiveConvTranspose(x, w, g, groups: groups, outPad: outPad)
            if shape.dims.contains(where: { $0 <= 0 }) { continue }
            let y = Conv2D.transposedForward(x, w, bias: nil, g, groups: groups, outputPadding: outPad)
            #expect(y.shape == shape)
            expectClose(y, ref, tol: 1e-5, "conv_transpose2d trial \(trial)")
        }
    }

    @Test func poolingRandomConfigurations() {
        var r = Rand(24)
        for trial in 0..<40 {
            let k = r.int(1...4)
            let g = Conv2DGeometry(
                kernel: (k, k), stride: (r.int(1...3), r.int(1...3)), padding: (r.int(0...(k / 2)), 0),
                dilation: trial % 3 == 0 ? (2, 1) : (1, 1))
            let ceil = trial % 2 == 1
            let x = r.array([2, 3, r.int(k * 2...9), r.int(k...8)])
            let (h, w) = (x.shape[2], x.shape[3])
            let (oh, ow) = g.outputSize(h: h, w: w, ceilMode: ceil)
            let xs = x.scalars
            // Max pool: the largest in-bounds element of each window.
            let (ymax, indices) = Pool2D.maxForward(x, g, ceilMode: ceil)
            // Each index points at its output's value in its plane.
            let plane = oh * ow
            #expect(
                (0..<ymax.count).allSatisfy {
                    xs[$0 / plane * h * w + Int(indices.int32Pointer[$0])] == ymax.scalars[$0]
                },
                "max pool indices, trial \(trial)")
            var refMax: [Double] = [], refAvg: [Double] = []
            for pl in 0..<6 {
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var m = -Double.infinity
                        var sum = 0.0
                        for ki in 0..<k {
                            for kj in 0..<k {
                                let iy: Int = oy * g.strideH - g.padH + ki * g.dilationH
                                let ix: Int = ox * g.strideW - g.padW + kj * g.dilationW
                                if iy >= 0 && iy < h && ix >= 0 && ix < w {
                                    m = max(m, Double(xs[pl * h * w + iy * w + ix]))
                                }
                                // Average pool (no dilation): PyTorch's divisor counts the window clipped to the padded input.
                                let ay = oy * g.strideH - g.padH + ki, ax = ox * g.strideW - g.padW + kj
                                if ay >= 0 && ay < h && ax >= 0 && ax < w {
                                    sum += Double(xs[pl * h * w + ay * w + ax])
                                }
                            }
                        }
                        refMax.append(m)
                        let y0 = oy * g.strideH - g.padH, x0 = ox * g.strideW - g.padW
                        let padded = (min(y0 + k, h + g.padH) - y0) * (min(x0 + k, w + g.padW) - x0)
                        refAvg.append(sum / Double(padded))
                    }
                }
            }
            expectClose(ymax, refMax, tol: 0, "max pool trial \(trial) \(g) ceil \(ceil)")
            if g.dilationH == 1 {
                expectClose(Pool2D.avgForward(x, g, ceilMode: ceil), refAvg, tol: 1e-6, "avg pool trial \(trial)")
            }
        }
    }

    /// A NaN in a window is the window's max (PyTorch propagates it), on the bounds-checked
    /// path (padding) and on the path for windows inside the plane.
    @Test func maxPoolPropagatesNaN() {
        var values = (0..<16).map(Float.init)
        values[5] = .nan
        let x = NDArray(values, shape: [1, 1, 4, 4])
        for padding in [0, 1] {
            let (y, indices) = Pool2D.maxForward(
                x, Conv2DGeometry(kernel: (2, 2), stride: (2, 2), padding: (padding, padding)))
            let first = padding == 0 ? 0 : 4  // the output whose window holds (1, 1): (0, 0) or (1, 1) of 3 x 3
            #expect(y.scalars[first].isNaN && indices.int32Pointer[first] == 5, "padding \(padding): \(y.scalars)")
            #expect(y.scalars.filter { $0.isNaN }.count == 1)
        }
    }

    /// Which index wins a window, on the 8-at-a-time path (windows inside the plane, at least 8
    /// outputs) and the scalar one: the first of tied maxima, the last of several NaNs. Values
    /// are small integers so that ties are common; about one in twelve is NaN.
    @Test func maxPoolIndicesOnTiesAndNaN() {
        var r = Rand(31)
        for trial in 0..<60 {
            let k = r.int(1...3), (sh, sw) = (r.int(1...3), r.int(1...3))
            let g = Conv2DGeometry(kernel: (k, k), stride: (sh, sw))
            let (h, w) = (r.int(k...11), r.int(k...11))
            let values: [Float] = (0..<2 * h * w).map { _ in
                let v = r.int(0...11)
                return v == 11 ? .nan : Float(v % 3)
            }
            let x = NDArray(values, shape: [1, 2, h, w])
            let (oh, ow) = g.outputSize(h: h, w: w)
            let (y, indices) = Pool2D.maxForward(x, g)
            for pl in 0..<2 {
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var best = Float.nan, bi = -1
                        for ki in 0..<k {
                            for kj in 0..<k {
                                let i = (oy * sh + ki) * w + ox * sw + kj, v = values[pl * h * w + i]
                                if bi < 0 || v > best || v.isNaN { best = v; bi = i }
                            }
                        }
                        let o = (pl * oh + oy) * ow + ox
                        #expect(Int(indices.int32Pointer[o]) == bi, "trial \(trial) \(g) \(h)x\(w) output \(o)")
                        #expect(
                            y.scalars[o] == best || (y.scalars[o].isNaN && best.isNaN), "trial \(trial) output \(o)")
                    }
                }
            }
        }
    }

    @Test func avgPoolExcludingPadding() {
        let x = NDArray((1...16).map(Float.init), shape: [1, 1, 4, 4])
        let g = Conv2DGeometry(kernel: (3, 3), stride: (2, 2), padding: (1, 1))
        // Top-left window covers rows 0-1, cols 0-1: (1+2+5+6)/4 excluding padding, /9 including.
        #expect(Pool2D.avgForward(x, g, countIncludePad: false).scalars[0] == 3.5)
        #expect(abs(Pool2D.avgForward(x, g, countIncludePad: true).scalars[0] - 14.0 / 9) < 1e-6)
    }

    @Test func im2colRoundTripIsAdjoint() {
        // <im2col(x), c> == <x, col2im(c)>: col2im is the exact adjoint, which conv backward relies on.
        var r = Rand(25)
        let g = Conv2DGeometry(kernel: (3, 2), stride: (2, 1), padding: (1, 1), dilation: (1, 2))
        let (c, h, w) = (2, 7, 6)
        let (oh, ow) = g.outputSize(h: h, w: w)
        let x = r.array([c * h * w]), col = r.array([c * 6 * oh * ow])
        let unfolded = NDArray(shape: [c * 6 * oh * ow])
        Im2Col.im2col(x.ptr, c: c, h: h, w: w, g, oh: oh, ow: ow, into: unfolded.ptr)
        let folded = NDArray(shape: [c * h * w])
        Im2Col.col2im(col.ptr, c: c, h: h, w: w, g, oh: oh, ow: ow, into: folded.ptr)
        let lhs = zip(unfolded.scalars, col.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let rhs = zip(x.scalars, folded.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        #expect(abs(lhs - rhs) < 1e-4 * max(1, abs(lhs)))
    }
}
