/// 2-D convolution (cross-correlation, as in PyTorch) via im2col and the GEMM.
///
/// Images are processed in parallel, one thread per group of images with a single-threaded
/// GEMM each: the per-image GEMMs of small CNNs are too small to split, while the batch
/// always is. Weight gradients are summed per thread, then across threads.
public enum Conv2D {
    /// y = conv(x, w) + bias.
    /// - Parameters:
    ///   - x: input (N, C, H, W).
    ///   - w: weight (OC, C/groups, KH, KW).
    ///   - bias: (OC) or nil.
    ///   - groups: C and OC must both be divisible by it; groups == C is depthwise.
    /// - Returns: (N, OC, OH, OW).
    public static func forward(_ x: NDArray, _ w: NDArray, bias: NDArray?, _ g: Conv2DGeometry, groups: Int = 1) -> NDArray {
        let (n, c, h, wd) = dims4(x, "conv2d input")
        let oc = w.shape[0], cg = c / groups, ocg = oc / groups
        check(w: w, x: x, g: g, groups: groups, expected: [oc, cg, g.kernelH, g.kernelW])
        let (oh, ow) = g.outputSize(h: h, w: wd)
        precondition(oh > 0 && ow > 0, "conv2d: input \(x.shape) is smaller than the kernel window \(g)")
        let k = cg * g.kernelH * g.kernelW, p = oh * ow
        let y = NDArray(shape: [n, oc, oh, ow], zeroed: false)
        let xp = x.ptr, wp = w.ptr, yp = y.ptr
        ThreadPool.shared.parallelFor(n) { images in
            let col = NDArray(shape: [k * p], zeroed: false)
            for i in images {
                for gi in 0..<groups {
                    Im2Col.im2col(xp + (i * c + gi * cg) * h * wd, c: cg, h: h, w: wd, g, oh: oh, ow: ow, into: col.ptr)
                    GEMM.sgemm(transA: false, transB: false, m: ocg, n: p, k: k, a: wp + gi * ocg * k, lda: k,
                               b: col.ptr, ldb: p, c: yp + (i * oc + gi * ocg) * p, ldc: p)
                }
                if let bias { addBias(yp + i * oc * p, bias.ptr, channels: oc, plane: p) }
            }
        }
        return y
    }

    /// Gradients of conv2d: (dx or nil, dw, dbias or nil).
    /// - Parameters:
    ///   - dy: (N, OC, OH, OW).
    ///   - needInput: compute dx (false for a network's first layer).
    public static func backward(_ dy: NDArray, x: NDArray, w: NDArray, hasBias: Bool, _ g: Conv2DGeometry,
                                groups: Int = 1, needInput: Bool = true) -> (NDArray?, NDArray, NDArray?) {
        let (n, c, h, wd) = dims4(x, "conv2d input")
        let oc = w.shape[0], cg = c / groups, ocg = oc / groups
        let oh = dy.shape[2], ow = dy.shape[3]
        let k = cg * g.kernelH * g.kernelW, p = oh * ow
        let dx = needInput ? NDArray(shape: x.shape) : nil
        let xp = x.ptr, wp = w.ptr, dyp = dy.ptr
        let dw = perThreadSum(shape: w.shape, items: n) { images, dwp in
            let col = NDArray(shape: [k * p], zeroed: false)
            let dcol = NDArray(shape: [k * p], zeroed: false)
            for i in images {
                for gi in 0..<groups {
                    let dyg = dyp + (i * oc + gi * ocg) * p
                    Im2Col.im2col(xp + (i * c + gi * cg) * h * wd, c: cg, h: h, w: wd, g, oh: oh, ow: ow, into: col.ptr)
                    // dW_g (OCg, K) += dY_g (OCg, P) · col^T (P, K)
                    GEMM.sgemm(transA: false, transB: true, m: ocg, n: k, k: p, a: dyg, lda: p, b: col.ptr, ldb: p,
                               beta: 1, c: dwp + gi * ocg * k, ldc: k)
                    if let dx {
                        // dcol (K, P) = W_g^T (K, OCg) · dY_g (OCg, P), folded back onto dx.
                        GEMM.sgemm(transA: true, transB: false, m: k, n: p, k: ocg, a: wp + gi * ocg * k, lda: k,
                                   b: dyg, ldb: p, c: dcol.ptr, ldc: p)
                        Im2Col.col2im(dcol.ptr, c: cg, h: h, w: wd, g, oh: oh, ow: ow, into: dx.ptr + (i * c + gi * cg) * h * wd)
                    }
                }
            }
        }
        return (dx, dw, hasBias ? biasGrad(dy) : nil)
    }

    /// Transposed convolution (the adjoint of conv2d), as PyTorch's ConvTranspose2d.
    /// - Parameters:
    ///   - x: input (N, Cin, H, W).
    ///   - w: weight (Cin, Cout/groups, KH, KW).
    ///   - outputPadding: extra rows/columns on the bottom/right, each below its stride or dilation.
    /// - Returns: (N, Cout, OH, OW) with OH = (H-1)·sH - 2·pH + dH·(KH-1) + outputPadding.0 + 1.
    public static func transposedForward(_ x: NDArray, _ w: NDArray, bias: NDArray?, _ g: Conv2DGeometry,
                                         groups: Int = 1, outputPadding: (Int, Int) = (0, 0)) -> NDArray {
        let (n, cin, h, wd) = dims4(x, "conv_transpose2d input")
        let cing = cin / groups, coutg = w.shape[1], cout = coutg * groups
        check(w: w, x: x, g: g, groups: groups, expected: [cin, coutg, g.kernelH, g.kernelW])
        precondition(outputPadding.0 >= 0 && outputPadding.1 >= 0
                     && outputPadding.0 < max(g.strideH, g.dilationH) && outputPadding.1 < max(g.strideW, g.dilationW),
                     "conv_transpose2d: output padding \(outputPadding) must be below the stride or dilation")
        let oh = (h - 1) * g.strideH - 2 * g.padH + g.dilationH * (g.kernelH - 1) + outputPadding.0 + 1
        let ow = (wd - 1) * g.strideW - 2 * g.padW + g.dilationW * (g.kernelW - 1) + outputPadding.1 + 1
        precondition(oh > 0 && ow > 0, "conv_transpose2d: padding \(g) leaves no output for input \(x.shape)")
        let k = coutg * g.kernelH * g.kernelW, p = h * wd
        let y = NDArray(shape: [n, cout, oh, ow])
        let xp = x.ptr, wp = w.ptr, yp = y.ptr
        ThreadPool.shared.parallelFor(n) { images in
            let col = NDArray(shape: [k * p], zeroed: false)
            for i in images {
                for gi in 0..<groups {
                    // col (K, P) = W_g^T (K, Cin_g) · x_g (Cin_g, P), folded onto the output.
                    GEMM.sgemm(transA: true, transB: false, m: k, n: p, k: cing, a: wp + gi * cing * k, lda: k,
                               b: xp + (i * cin + gi * cing) * p, ldb: p, c: col.ptr, ldc: p)
                    Im2Col.col2im(col.ptr, c: coutg, h: oh, w: ow, g, oh: h, ow: wd, into: yp + (i * cout + gi * coutg) * oh * ow)
                }
                if let bias { addBias(yp + i * cout * oh * ow, bias.ptr, channels: cout, plane: oh * ow) }
            }
        }
        return y
    }

    /// Gradients of the transposed convolution: (dx or nil, dw, dbias or nil).
    public static func transposedBackward(_ dy: NDArray, x: NDArray, w: NDArray, hasBias: Bool, _ g: Conv2DGeometry,
                                          groups: Int = 1, needInput: Bool = true) -> (NDArray?, NDArray, NDArray?) {
        let (n, cin, h, wd) = dims4(x, "conv_transpose2d input")
        let cing = cin / groups, coutg = w.shape[1], cout = coutg * groups
        let oh = dy.shape[2], ow = dy.shape[3]
        let k = coutg * g.kernelH * g.kernelW, p = h * wd
        let dx = needInput ? NDArray(shape: x.shape, zeroed: false) : nil
        let xp = x.ptr, wp = w.ptr, dyp = dy.ptr
        let dw = perThreadSum(shape: w.shape, items: n) { images, dwp in
            let dcol = NDArray(shape: [k * p], zeroed: false)
            for i in images {
                for gi in 0..<groups {
                    Im2Col.im2col(dyp + (i * cout + gi * coutg) * oh * ow, c: coutg, h: oh, w: ow, g, oh: h, ow: wd, into: dcol.ptr)
                    let xg = xp + (i * cin + gi * cing) * p
                    // dW_g (Cin_g, K) += x_g (Cin_g, P) · dcol^T (P, K)
                    GEMM.sgemm(transA: false, transB: true, m: cing, n: k, k: p, a: xg, lda: p, b: dcol.ptr, ldb: p,
                               beta: 1, c: dwp + gi * cing * k, ldc: k)
                    if let dx {
                        // dx_g (Cin_g, P) = W_g (Cin_g, K) · dcol (K, P)
                        GEMM.sgemm(transA: false, transB: false, m: cing, n: p, k: k, a: wp + gi * cing * k, lda: k,
                                   b: dcol.ptr, ldb: p, c: dx.ptr + (i * cin + gi * cing) * p, ldc: p)
                    }
                }
            }
        }
        return (dx, dw, hasBias ? biasGrad(dy) : nil)
    }

    // MARK: helpers

    static func dims4(_ x: NDArray, _ what: String) -> (Int, Int, Int, Int) {
        precondition(x.rank == 4, "\(what) must be (N, C, H, W), got \(x.shape)")
        return (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    }

    static func check(w: NDArray, x: NDArray, g: Conv2DGeometry, groups: Int, expected: [Int]) {
        precondition(groups >= 1 && x.shape[1] % groups == 0 && w.shape[0] % groups == 0,
                     "conv: channels \(x.shape[1]) and \(w.shape[0]) must be divisible by groups \(groups)")
        precondition(w.shape.dims == expected, "conv: weight shape \(w.shape) should be \(Shape(expected)) for input \(x.shape)")
    }

    static func addBias(_ y: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>, channels: Int, plane: Int) {
        for ch in 0..<channels {
            let row = y + ch * plane, v = b[ch]
            for j in 0..<plane { row[j] += v }
        }
    }

    /// db = dy summed over N, H, W.
    static func biasGrad(_ dy: NDArray) -> NDArray { Reduce.sum(dy, axes: [0, 2, 3]) }

    /// Runs `body(items, partial)` on chunks of `0..<items` in parallel, each thread into its
    /// own zeroed accumulator of `shape`, and returns their sum.
    static func perThreadSum(shape: Shape, items: Int, _ body: (Range<Int>, UnsafeMutablePointer<Float>) -> Void) -> NDArray {
        let pool = ThreadPool.shared
        let nt = min(pool.threadCount, max(items, 1))
        let partials = (0..<nt).map { _ in NDArray(shape: shape) }
        pool.parallel(threads: nt) { tid, count in
            if count == 1 { body(0..<items, partials[0].ptr); return }
            let r = ThreadPool.chunk(items, parts: count, index: tid)
            if !r.isEmpty { body(r, partials[tid].ptr) }
        }
        for extra in partials.dropFirst() { Unary.addInPlace(partials[0], extra) }
        return partials[0]
    }
}
