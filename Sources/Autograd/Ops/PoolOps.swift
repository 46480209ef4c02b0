import TensorCore

/// Max pooling over (N, C, H, W); stride defaults to the kernel size.
public func maxPool2d(
    _ x: Tensor, kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
    dilation: (Int, Int) = (1, 1), ceilMode: Bool = false
) -> Tensor {
    let g = Conv2DGeometry(kernel: kernel, stride: stride ?? kernel, padding: padding, dilation: dilation)
    // A 16-bit x is pooled as it is stored, and its gradient scattered back in 16 bits.
    let (y, indices) = Pool2D.maxForward(x.data.isHalf ? x.data : x.values, g, ceilMode: ceilMode)
    let inShape = x.shape
    return Tensor.record("max_pool2d", y, inputs: [x], halfGradient: true) { dy in
        [Pool2D.maxBackward(dy, indices: indices, inputShape: inShape, output: x.gradientType)]
    }
}

/// Average pooling over (N, C, H, W); stride defaults to the kernel size.
/// - Parameters:
///   - x: (N, C, H, W).
///   - kernel: the window (height, width).
///   - stride: the window's step (nil: the kernel size).
///   - padding: zeros added on each side (rows, columns).
///   - ceilMode: round the output size up, so a partial window at the end counts.
///   - countIncludePad: divide by the padded window size (PyTorch's default) or by the valid count.
public func avgPool2d(
    _ x: Tensor, kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
    ceilMode: Bool = false, countIncludePad: Bool = true
) -> Tensor {
    let g = Conv2DGeometry(kernel: kernel, stride: stride ?? kernel, padding: padding)
    let inShape = x.shape
    let y = Pool2D.avgForward(x.values, g, ceilMode: ceilMode, countIncludePad: countIncludePad)
    return Tensor.record("avg_pool2d", y, inputs: [x]) { dy in
        [Pool2D.avgBackward(dy, inputShape: inShape, g, countIncludePad: countIncludePad)]
    }
}

/// Global average pooling: (N, C, H, W) to (N, C).
public func globalAvgPool2d(_ x: Tensor) -> Tensor {
    precondition(x.rank == 4, "global average pooling needs (N, C, H, W), got \(x.shape)")
    return x.mean(axes: [2, 3])
}
