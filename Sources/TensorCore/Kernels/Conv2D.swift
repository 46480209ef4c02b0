/// 2-D convolution (cross-correlation, as in PyTorch) via im2col and the GEMM.
///
/// Each thread takes a contiguous range of images and unfolds a chunk of them side by side
/// into one column matrix (C/g·KH·KW, images·OH·OW), so one GEMM covers the chunk: the
/// per-image GEMMs of small CNNs (LeNet's 16 x 100 x 150) are too small to run at speed,
/// while a chunk's (16 x 400 x 150 for four images) is not. Weight gradients are summed per
/// thread, then across threads.
public enum Conv2D {
    /// y = conv(x, w) + bias.
    /// - Parameters:
    ///   - x: input (N, C, H, W); float32, float16 or bfloat16 (widened while unfolded).
    ///   - w: weight (OC, C/groups, KH, KW); any float type (widened while packed).
    ///   - bias: (OC) or nil, float32.
    ///   - g: kernel size, stride, padding and dilation.
    ///   - groups: C and OC must both be divisible by it; groups == C is depthwise.
    ///   - output: the result's type (16 bits: rounded once, as it is written).
    ///   - weightRounding: read an fp32 w as if rounded to this 16-bit type (`GEMMOperand.rounding`).
    /// - Returns: (N, OC, OH, OW).
    public static func forward(
        _ x: NDArray, _ w: NDArray, bias: NDArray?, _ g: Conv2DGeometry, groups: Int = 1,
        output: DType = .float32, weightRounding: DType? = nil
    ) -> NDArray {
        let (n, c, h, wd) = dims4(x, "conv2d input")
        let oc = w.shape[0], cg = c / groups, ocg = oc / groups
        check(w: w, x: x, g: g, groups: groups, expected: [oc, cg, g.kernelH, g.kernelW])
        let (oh, ow) = g.outputSize(h: h, w: wd)
        precondition(oh > 0 && ow > 0, "conv2d: input \(x.shape) is smaller than the kernel window \(g)")
        let k = cg * g.kernelH * g.kernelW, p = oh * ow
        let y = NDArray(shape: [n, oc, oh, ow], dtype: output, zeroed: false)
        forEachChunk(n, k: k, p: p) { i0, b in
            let cols = b * p
            let col = NDArray(shape: [k * cols], zeroed: false), out = NDArray(shape: [ocg * cols], zeroed: false)
            for gi in 0..<groups {
                unfold(x, images: i0, b, from: gi * cg, count: cg, g, oh: oh, ow: ow, into: col.ptr)
                GEMM.gemm(
                    transA: false, transB: false, m: ocg, n: cols, k: k,
                    a: weights(w, group: gi, ocg: ocg, k: k, rounding: weightRounding),
                    b: GEMMOperand(col.ptr, ld: cols), c: out.ptr, ldc: cols)
                scatter(out.ptr, into: y, images: i0, b, from: gi * ocg, count: ocg, bias: bias)
            }
        }
        return y
    }

    /// Gradients of conv2d: (dx or nil, dw, dbias or nil).
    /// - Parameters:
    ///   - dy: (N, OC, OH, OW).
    ///   - x: the forward input.
    ///   - w: the forward weight.
    ///   - hasBias: return dbias too.
    ///   - g: the forward's geometry.
    ///   - groups: the forward's groups.
    ///   - needInput: compute dx (false for a network's first layer).
    ///   - weightRounding: the rounding forward read w with.
    ///   - addingWeight: an fp32 array of w's size to add dw into and return (the weight's
    ///     gradient in the arena, see `Tensor.gradientBuffer`).
    public static func backward(
        _ dy: NDArray, x: NDArray, w: NDArray, hasBias: Bool, _ g: Conv2DGeometry,
        groups: Int = 1, needInput: Bool = true, weightRounding: DType? = nil,
        addingWeight: NDArray? = nil
    ) -> (NDArray?, NDArray, NDArray?) {
        let dx =
            needInput ? inputGradient(dy, w: w, inputShape: x.shape, g, groups: groups, rounding: weightRounding) : nil
        let dw = weightGradient(dy, x: x, weightShape: w.shape, g, groups: groups, adding: addingWeight)
        return (dx, dw, hasBias ? biasGrad(dy) : nil)
    }

    /// dx of conv2d: each image's dcol = W_gᵀ · dY_g, folded back onto the image.
    /// - Parameters:
    ///   - dy: (N, OC, OH, OW).
    ///   - w: (OC, C/groups, KH, KW).
    ///   - inputShape: (N, C, H, W).
    ///   - rounding: read an fp32 w as if rounded to this 16-bit type.
    static func inputGradient(
        _ dy: NDArray, w: NDArray, inputShape: Shape, _ g: Conv2DGeometry, groups: Int,
        rounding: DType? = nil
    ) -> NDArray {
        let (n, c, h, wd) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3])
        let oc = w.shape[0], cg = c / groups, ocg = oc / groups
        let oh = dy.shape[2], ow = dy.shape[3]
        let k = cg * g.kernelH * g.kernelW, p = oh * ow
        let dx = NDArray(shape: inputShape)
        forEachChunk(n, k: k, p: p) { i0, b in
            let cols = b * p
            let dyg = NDArray(shape: [ocg * cols], zeroed: false), dcol = NDArray(shape: [k * cols], zeroed: false)
            for gi in 0..<groups {
                gather(dy, images: i0, b, from: gi * ocg, count: ocg, into: dyg.ptr)
                // dcol (K, cols) = W_gᵀ (K, OCg) · dY_g (OCg, cols)
                GEMM.gemm(
                    transA: true, transB: false, m: k, n: cols, k: ocg,
                    a: weights(w, group: gi, ocg: ocg, k: k, rounding: rounding),
                    b: GEMMOperand(dyg.ptr, ld: cols), c: dcol.ptr, ldc: cols)
                fold(
                    dcol.ptr, c: c, h: h, w: wd, images: i0, b, from: gi * cg, count: cg, g, oh: oh, ow: ow,
                    into: dx.ptr)
            }
        }
        return dx
    }

    /// dW of conv2d: Σ over images of dY_g · unfold(x_g)ᵀ, per thread, then across threads.
    /// - Parameters:
    ///   - dy: (N, OC, OH, OW).
    ///   - x: (N, C, H, W).
    ///   - weightShape: (OC, C/groups, KH, KW).
    ///   - adding: an fp32 array of the weight's size to add dW into and return.
    static func weightGradient(
        _ dy: NDArray, x: NDArray, weightShape: Shape, _ g: Conv2DGeometry, groups: Int,
        adding: NDArray? = nil
    ) -> NDArray {
        let (n, c, _, _) = dims4(x, "conv2d input")
        let oc = weightShape[0], cg = c / groups, ocg = oc / groups
        let oh = dy.shape[2], ow = dy.shape[3]
        let k = cg * g.kernelH * g.kernelW, p = oh * ow
        return perThreadSum(shape: weightShape, items: n, adding: adding) { images, dwp in
            forEachChunk(in: images, k: k, p: p) { i0, b in
                let cols = b * p
                let col = NDArray(shape: [k * cols], zeroed: false), dyg = NDArray(shape: [ocg * cols], zeroed: false)
                for gi in 0..<groups {
                    unfold(x, images: i0, b, from: gi * cg, count: cg, g, oh: oh, ow: ow, into: col.ptr)
                    gather(dy, images: i0, b, from: gi * ocg, count: ocg, into: dyg.ptr)
                    // dW_g (OCg, K) += dY_g (OCg, cols) · colᵀ (cols, K)
                    GEMM.sgemm(
                        transA: false, transB: true, m: ocg, n: k, k: cols, a: dyg.ptr, lda: cols, b: col.ptr,
                        ldb: cols,
                        beta: 1, c: dwp + gi * ocg * k, ldc: k)
                }
            }
        }
    }

    /// Transposed convolution, as PyTorch's ConvTranspose2d: the adjoint of conv2d, so its
    /// forward is conv2d's input gradient with x in the place of dy.
    /// - Parameters:
    ///   - x: input (N, Cin, H, W), any float type (widened as it is gathered).
    ///   - w: weight (Cin, Cout/groups, KH, KW): conv2d's layout with Cin as its output channels;
    ///     any float type.
    ///   - bias: (Cout) or nil, float32.
    ///   - g: kernel size, stride, padding and dilation of the convolution it transposes.
    ///   - groups: Cin and Cout must both be divisible by it.
    ///   - outputPadding: extra rows/columns on the bottom/right, each below its stride or dilation.
    ///   - weightRounding: read an fp32 w as if rounded to this 16-bit type.
    /// - Returns: (N, Cout, OH, OW), float32, with OH = (H-1)·sH - 2·pH + dH·(KH-1) + outputPadding.0 + 1.
    public static func transposedForward(
        _ x: NDArray, _ w: NDArray, bias: NDArray?, _ g: Conv2DGeometry,
        groups: Int = 1, outputPadding: (Int, Int) = (0, 0),
        weightRounding: DType? = nil
    ) -> NDArray {
        let (n, cin, h, wd) = dims4(x, "conv_transpose2d input")
        let coutg = w.shape[1], cout = coutg * groups
        check(w: w, x: x, g: g, groups: groups, expected: [cin, coutg, g.kernelH, g.kernelW])
        precondition(
            outputPadding.0 >= 0 && outputPadding.1 >= 0
                && outputPadding.0 < max(g.strideH, g.dilationH) && outputPadding.1 < max(g.strideW, g.dilationW),
            "conv_transpose2d: output padding \(outputPadding) must be below the stride or dilation")
        let oh = (h - 1) * g.strideH - 2 * g.padH + g.dilationH * (g.kernelH - 1) + outputPadding.0 + 1
        let ow = (wd - 1) * g.strideW - 2 * g.padW + g.dilationW * (g.kernelW - 1) + outputPadding.1 + 1
        precondition(oh > 0 && ow > 0, "conv_transpose2d: padding \(g) leaves no output for input \(x.shape)")
        let y = inputGradient(x, w: w, inputShape: [n, cout, oh, ow], g, groups: groups, rounding: weightRounding)
        if let bias { for i in 0..<n { addBias(y.ptr + i * cout * oh * ow, bias.ptr, channels: cout, plane: oh * ow) } }
        return y
    }

    /// Gradients of the transposed convolution: dx is conv2d of dy, dw is conv2d's weight
    /// gradient with the roles of x and dy exchanged. dy, x and w may be of any float type.
    /// - Parameters:
    ///   - dy: (N, Cout, OH, OW).
    ///   - x: the forward input.
    ///   - w: the forward weight.
    ///   - hasBias: return dbias too.
    ///   - g: the forward's geometry.
    ///   - groups: the forward's groups.
    ///   - needInput: compute dx.
    ///   - weightRounding: the rounding forward read w with.
    ///   - addingWeight: an fp32 array of w's size to add dw into and return.
    public static func transposedBackward(
        _ dy: NDArray, x: NDArray, w: NDArray, hasBias: Bool, _ g: Conv2DGeometry,
        groups: Int = 1, needInput: Bool = true, weightRounding: DType? = nil,
        addingWeight: NDArray? = nil
    ) -> (NDArray?, NDArray, NDArray?) {
        let dx = needInput ? forward(dy, w, bias: nil, g, groups: groups, weightRounding: weightRounding) : nil
        let dw = weightGradient(x, x: dy, weightShape: w.shape, g, groups: groups, adding: addingWeight)
        return (dx, dw, hasBias ? biasGrad(dy) : nil)
    }

    /// Largest column matrix a chunk may unfold into (elements; 256 KiB, half of L2), so the
    /// GEMM reads the chunk while it is still in L2. With 16 MiB, LeNet-5 unfolded its whole
    /// batch (5 MB for conv1) through memory: 1 rank 8.25 -> 7.66 ms, 2 ranks x 1 thread
    /// 9.40 -> 7.88 ms, as the two ranks no longer compete for memory bandwidth.
    /// Tests lower it to exercise chunk boundaries; results never depend on it.
    static var chunkElements = 1 << 16

    /// Images per GEMM: as many as fit the column budget, at least one.
    static func imagesPerChunk(k: Int, p: Int) -> Int { max(1, chunkElements / max(k * p, 1)) }

    /// Calls `body(firstImage, count)` for chunks of `images`.
    static func forEachChunk(in images: Range<Int>, k: Int, p: Int, _ body: (Int, Int) -> Void) {
        let per = imagesPerChunk(k: k, p: p)
        for i0 in stride(from: images.lowerBound, to: images.upperBound, by: per) {
            body(i0, min(per, images.upperBound - i0))
        }
    }

    /// Splits `0..<n` images over the threads, then into chunks.
    static func forEachChunk(_ n: Int, k: Int, p: Int, _ body: (Int, Int) -> Void) {
        ThreadPool.shared.parallelFor(n) { images in forEachChunk(in: images, k: k, p: p, body) }
    }

    /// im2col of channels [c0, c0+count) of images [i0, i0+b) of an (N, C, H, W) array of any
    /// float type into one fp32 column matrix (count·KH·KW, b·OH·OW), the images side by side.
    ///
    /// A 16-bit image is widened whole into a scratch plane first, then unfolded as fp32.
    /// im2col copies every value KH·KW times in rows of OW (LeNet-5's are 28 and 10 wide):
    /// widening inside it cost 25 conversions per value and a vector loop per short row, where
    /// fp32 rows are plain copies.
    static func unfold(
        _ x: NDArray, images i0: Int, _ b: Int, from c0: Int, count: Int,
        _ g: Conv2DGeometry, oh: Int, ow: Int, into col: UnsafeMutablePointer<Float>
    ) {
        let (c, h, w) = (x.shape[1], x.shape[2], x.shape[3]), plane = count * h * w
        let widened = x.isHalf ? NDArray(shape: [plane], zeroed: false) : nil
        for j in 0..<b {
            let offset = ((i0 + j) * c + c0) * h * w
            let image: UnsafeMutablePointer<Float>
            if let widened {
                HalfCast.widenBlock(x.halfBits + offset, widened.ptr, plane, x.dtype)
                image = widened.ptr
            } else {
                image = x.ptr + offset
            }
            Im2Col.im2col(image, c: count, h: h, w: w, g, oh: oh, ow: ow, into: col + j * oh * ow, ld: b * oh * ow)
        }
    }

    /// Group `gi`'s weights (OCg, K) as a GEMM operand of the weights' own type, read rounded
    /// to `rounding` when they are fp32.
    static func weights(_ w: NDArray, group gi: Int, ocg: Int, k: Int, rounding: DType? = nil) -> GEMMOperand {
        GEMMOperand(
            raw: UnsafeRawPointer(w.storage.raw) + gi * ocg * k * w.dtype.byteSize, dtype: w.dtype, ld: k,
            rounding: w.dtype == .float32 ? rounding : nil)
    }

    /// The adjoint of `unfold`: col2im of each image's columns, added onto the array.
    static func fold(
        _ col: UnsafePointer<Float>, c: Int, h: Int, w: Int, images i0: Int, _ b: Int, from c0: Int, count: Int,
        _ g: Conv2DGeometry, oh: Int, ow: Int, into x: UnsafeMutablePointer<Float>
    ) {
        for j in 0..<b {
            Im2Col.col2im(
                col + j * oh * ow, c: count, h: h, w: w, g, oh: oh, ow: ow,
                into: x + ((i0 + j) * c + c0) * h * w, ld: b * oh * ow)
        }
    }

    /// Copies channels [c0, c0+count) of images [i0, i0+b) of an (N, C, P) array of any float
    /// type into a (count, b·P) fp32 matrix whose columns are the images side by side.
    static func gather(
        _ array: NDArray, images i0: Int, _ b: Int, from c0: Int, count: Int, into matrix: UnsafeMutablePointer<Float>
    ) {
        let c = array.shape[1], p = array.shape[2] * array.shape[3]
        for ch in 0..<count {
            for j in 0..<b {
                let offset = ((i0 + j) * c + c0 + ch) * p, row = matrix + (ch * b + j) * p
                if array.dtype == .float32 {
                    row.update(from: array.ptr + offset, count: p)
                } else {
                    HalfCast.widenBlock(array.halfBits + offset, row, p, array.dtype)
                }
            }
        }
    }

    /// Writes a (count, b·P) fp32 product matrix (the images side by side) into channels
    /// [c0, c0+count) of images [i0, i0+b) of the (N, C, P) output, adding each channel's bias
    /// and, for a 16-bit output, rounding once: one pass where a layout move, a bias pass and a
    /// rounding pass over the whole output were three.
    /// - Parameter bias: (C) in fp32, or nil; the matrix is clobbered when the output is 16-bit.
    static func scatter(
        _ matrix: UnsafeMutablePointer<Float>, into y: NDArray, images i0: Int, _ b: Int,
        from c0: Int, count: Int, bias: NDArray?
    ) {
        let c = y.shape[1], p = y.shape[2] * y.shape[3]
        for ch in 0..<count {
            let v = bias.map { $0.ptr[c0 + ch] }
            for j in 0..<b {
                let offset = ((i0 + j) * c + c0 + ch) * p, row = matrix + (ch * b + j) * p
                if y.dtype == .float32 {
                    let dst = y.ptr + offset
                    if let v { for e in 0..<p { dst[e] = row[e] + v } } else { dst.update(from: row, count: p) }
                } else {
                    if let v { for e in 0..<p { row[e] += v } }
                    HalfCast.narrowBlock(row, y.halfBits + offset, p, y.dtype)
                }
            }
        }
    }

    // MARK: helpers

    static func dims4(_ x: NDArray, _ what: String) -> (Int, Int, Int, Int) {
        precondition(x.rank == 4, "\(what) must be (N, C, H, W), got \(x.shape)")
        return (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    }

    static func check(w: NDArray, x: NDArray, g: Conv2DGeometry, groups: Int, expected: [Int]) {
        precondition(
            groups >= 1 && x.shape[1] % groups == 0 && w.shape[0] % groups == 0,
            "conv: channels \(x.shape[1]) and \(w.shape[0]) must be divisible by groups \(groups)")
        precondition(
            w.shape.dims == expected, "conv: weight shape \(w.shape) should be \(Shape(expected)) for input \(x.shape)")
    }

    static func addBias(_ y: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>, channels: Int, plane: Int) {
        for ch in 0..<channels {
            let row = y + ch * plane, v = b[ch]
            for j in 0..<plane { row[j] += v }
        }
    }

    /// Parts of `perThreadSum` under `ThreadPool.fixedPartitions`.
    static let fixedParts = 4

    /// db = dy summed over N, H, W, in fp32 from a dy of any float type. One channel per task,
    /// summed in a fixed order, so the result does not depend on the threads.
    static func biasGrad(_ dy: NDArray) -> NDArray {
        let (n, c, oh, ow) = dims4(dy, "conv output gradient")
        let p = oh * ow
        let db = NDArray(shape: [c]), rows = RowAccess(dy), dbp = db.ptr
        ThreadPool.shared.parallelFor(c, grain: max(1, Unary.grain / max(n * p, 1))) { channels in
            RowAccess.withScratch(1, p) { scratch in
                for ch in channels {
                    var total: Float = 0
                    for i in 0..<n {
                        let row = rows.load((i * c + ch) * p, p, scratch)
                        var partial = SIMD8<Float>(), e = 0
                        while e + 8 <= p {
                            partial += UnsafeRawPointer(row + e).loadUnaligned(as: SIMD8<Float>.self); e += 8
                        }
                        var sum = partial.sum()
                        while e < p { sum += row[e]; e += 1 }
                        total += sum
                    }
                    dbp[ch] = total
                }
            }
        }
        return db
    }

    /// Runs `body(items, partial)` on chunks of `0..<items` in parallel, each chunk into its
    /// own accumulator of `shape`, and returns their sum in chunk order.
    ///
    /// One chunk per thread, or with `ThreadPool.fixedPartitions` a fixed count whatever the
    /// threads, so that the sum's bits do not depend on them.
    /// - Parameter adding: the first chunk's accumulator, returned with the others added
    ///   (an fp32 array of `shape`'s size); the accumulators are zeroed arrays otherwise.
    static func perThreadSum(
        shape: Shape, items: Int, adding: NDArray? = nil,
        _ body: (Range<Int>, UnsafeMutablePointer<Float>) -> Void
    ) -> NDArray {
        let pool = ThreadPool.shared
        let parts = min(ThreadPool.fixedPartitions ? fixedParts : pool.threadCount, max(items, 1))
        if let adding {
            precondition(
                adding.dtype == .float32 && adding.count == shape.count,
                "adding a \(shape) gradient into \(adding.shape)")
        }
        let partials = (0..<parts).map { p in p == 0 ? adding ?? NDArray(shape: shape) : NDArray(shape: shape) }
        if parts == 1 {
            body(0..<items, partials[0].ptr)
        } else {
            pool.parallelFor(parts) { r in
                for p in r { body(ThreadPool.chunk(items, parts: parts, index: p), partials[p].ptr) }
            }
        }
        for extra in partials.dropFirst() { Unary.addInPlace(partials[0], extra) }
        return partials[0]
    }
}
