/// 2-D convolution (cross-correlation, as in PyTorch) via im2col and the GEMM.
///
/// Each thread takes a contiguous range of images and unfolds a chunk of them side by side
/// into one column matrix (C/g·KH·KW, images·OH·OW), so one GEMM covers the chunk: the
/// per-image GEMMs of small CNNs (LeNet's 16 x 100 x 150) are too small to run at speed,
/// while a chunk's (16 x 3200 x 150) is not. Weight gradients are summed per thread, then
/// across threads.
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
        forEachChunk(n, k: k, p: p) { i0, b in
            let cols = b * p
            let col = NDArray(shape: [k * cols], zeroed: false), out = NDArray(shape: [ocg * cols], zeroed: false)
            for gi in 0..<groups {
                for j in 0..<b {
                    Im2Col.im2col(xp + ((i0 + j) * c + gi * cg) * h * wd, c: cg, h: h, w: wd, g, oh: oh, ow: ow,
                                  into: col.ptr + j * p, ld: cols)
                }
                GEMM.sgemm(transA: false, transB: false, m: ocg, n: cols, k: k, a: wp + gi * ocg * k, lda: k,
                           b: col.ptr, ldb: cols, c: out.ptr, ldc: cols)
                channels(of: yp, c: oc, p: p, images: i0, b, from: gi * ocg, count: ocg, matrix: out.ptr, toMatrix: false)
            }
            if let bias { for j in 0..<b { addBias(yp + (i0 + j) * oc * p, bias.ptr, channels: oc, plane: p) } }
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
            forEachChunk(in: images, k: k, p: p) { i0, b in
                let cols = b * p
                let col = NDArray(shape: [k * cols], zeroed: false), dyg = NDArray(shape: [ocg * cols], zeroed: false)
                let dcol = dx == nil ? nil : NDArray(shape: [k * cols], zeroed: false)
                for gi in 0..<groups {
                    for j in 0..<b {
                        Im2Col.im2col(xp + ((i0 + j) * c + gi * cg) * h * wd, c: cg, h: h, w: wd, g, oh: oh, ow: ow,
                                      into: col.ptr + j * p, ld: cols)
                    }
                    channels(of: UnsafeMutablePointer(mutating: dyp), c: oc, p: p, images: i0, b, from: gi * ocg, count: ocg,
                             matrix: dyg.ptr, toMatrix: true)
                    // dW_g (OCg, K) += dY_g (OCg, cols) · col^T (cols, K)
                    GEMM.sgemm(transA: false, transB: true, m: ocg, n: k, k: cols, a: dyg.ptr, lda: cols, b: col.ptr, ldb: cols,
                               beta: 1, c: dwp + gi * ocg * k, ldc: k)
                    if let dx, let dcol {
                        // dcol (K, cols) = W_g^T (K, OCg) · dY_g (OCg, cols), folded back onto dx.
                        GEMM.sgemm(transA: true, transB: false, m: k, n: cols, k: ocg, a: wp + gi * ocg * k, lda: k,
                                   b: dyg.ptr, ldb: cols, c: dcol.ptr, ldc: cols)
                        for j in 0..<b {
                            Im2Col.col2im(dcol.ptr + j * p, c: cg, h: h, w: wd, g, oh: oh, ow: ow,
                                          into: dx.ptr + ((i0 + j) * c + gi * cg) * h * wd, ld: cols)
                        }
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
        forEachChunk(n, k: k, p: p) { i0, b in
            let cols = b * p
            let xg = NDArray(shape: [cing * cols], zeroed: false), col = NDArray(shape: [k * cols], zeroed: false)
            for gi in 0..<groups {
                channels(of: UnsafeMutablePointer(mutating: xp), c: cin, p: p, images: i0, b, from: gi * cing, count: cing,
                         matrix: xg.ptr, toMatrix: true)
                // col (K, cols) = W_g^T (K, Cin_g) · x_g (Cin_g, cols), folded onto the output.
                GEMM.sgemm(transA: true, transB: false, m: k, n: cols, k: cing, a: wp + gi * cing * k, lda: k,
                           b: xg.ptr, ldb: cols, c: col.ptr, ldc: cols)
                for j in 0..<b {
                    Im2Col.col2im(col.ptr + j * p, c: coutg, h: oh, w: ow, g, oh: h, ow: wd,
                                  into: yp + ((i0 + j) * cout + gi * coutg) * oh * ow, ld: cols)
                }
            }
            if let bias { for j in 0..<b { addBias(yp + (i0 + j) * cout * oh * ow, bias.ptr, channels: cout, plane: oh * ow) } }
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
            forEachChunk(in: images, k: k, p: p) { i0, b in
                let cols = b * p
                let dcol = NDArray(shape: [k * cols], zeroed: false), xg = NDArray(shape: [cing * cols], zeroed: false)
                for gi in 0..<groups {
                    for j in 0..<b {
                        Im2Col.im2col(dyp + ((i0 + j) * cout + gi * coutg) * oh * ow, c: coutg, h: oh, w: ow, g, oh: h, ow: wd,
                                      into: dcol.ptr + j * p, ld: cols)
                    }
                    channels(of: UnsafeMutablePointer(mutating: xp), c: cin, p: p, images: i0, b, from: gi * cing, count: cing,
                             matrix: xg.ptr, toMatrix: true)
                    // dW_g (Cin_g, K) += x_g (Cin_g, cols) · dcol^T (cols, K)
                    GEMM.sgemm(transA: false, transB: true, m: cing, n: k, k: cols, a: xg.ptr, lda: cols, b: dcol.ptr, ldb: cols,
                               beta: 1, c: dwp + gi * cing * k, ldc: k)
                    if let dx {
                        // dx_g (Cin_g, cols) = W_g (Cin_g, K) · dcol (K, cols)
                        GEMM.sgemm(transA: false, transB: false, m: cing, n: cols, k: k, a: wp + gi * cing * k, lda: k,
                                   b: dcol.ptr, ldb: cols, c: xg.ptr, ldc: cols)
                        channels(of: dx.ptr, c: cin, p: p, images: i0, b, from: gi * cing, count: cing,
                                 matrix: xg.ptr, toMatrix: false)
                    }
                }
            }
        }
        return (dx, dw, hasBias ? biasGrad(dy) : nil)
    }

    /// Largest column matrix a chunk may unfold into (elements; 16 MiB). Tests lower it to
    /// exercise chunk boundaries; results never depend on it.
    static var chunkElements = 1 << 22

    /// Images per GEMM: as many as fit the column budget, at least one.
    static func imagesPerChunk(k: Int, p: Int) -> Int { max(1, chunkElements / max(k * p, 1)) }

    /// Calls `body(firstImage, count)` for chunks of `images`.
    static func forEachChunk(in images: Range<Int>, k: Int, p: Int, _ body: (Int, Int) -> Void) {
        let per = imagesPerChunk(k: k, p: p)
        for i0 in stride(from: images.lowerBound, to: images.upperBound, by: per) { body(i0, min(per, images.upperBound - i0)) }
    }

    /// Splits `0..<n` images over the threads, then into chunks.
    static func forEachChunk(_ n: Int, k: Int, p: Int, _ body: (Int, Int) -> Void) {
        ThreadPool.shared.parallelFor(n) { images in forEachChunk(in: images, k: k, p: p, body) }
    }

    /// Moves channels [c0, c0+count) of images [i0, i0+b) between an (N, C, P) array and a
    /// (count, b·P) matrix whose columns are the images side by side.
    static func channels(of array: UnsafeMutablePointer<Float>, c: Int, p: Int, images i0: Int, _ b: Int,
                         from c0: Int, count: Int, matrix: UnsafeMutablePointer<Float>, toMatrix: Bool) {
        let base = array + (i0 * c + c0) * p
        let arrayStrides = [p, c * p, 1], matrixStrides = [b * p, p, 1]
        if toMatrix {
            StridedCopy.copy(dims: [count, b, p], src: base, srcStrides: arrayStrides, dst: matrix, dstStrides: matrixStrides)
        } else {
            StridedCopy.copy(dims: [count, b, p], src: matrix, srcStrides: matrixStrides, dst: base, dstStrides: arrayStrides)
        }
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
