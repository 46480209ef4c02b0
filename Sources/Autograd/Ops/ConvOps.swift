import TensorCore

/// 2-D convolution (cross-correlation) as PyTorch's conv2d.
/// - Parameters:
///   - x: (N, C, H, W).
///   - weight: (OC, C/groups, KH, KW).
///   - bias: (OC) or nil.
///   - stride: the kernel's step (rows, columns).
///   - padding: zeros added on each side (rows, columns).
///   - dilation: spacing between kernel taps (rows, columns).
///   - groups: split the channels into groups convolved apart; C and OC must divide by it.
/// - Returns: (N, OC, OH, OW).
public func conv2d(
    _ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1),
    padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1
) -> Tensor {
    // Under autocast an fp32 weight leaf is read rounded by the GEMMs (no 16-bit copy); the
    // input is cast, since im2col reads each value KH·KW times.
    let x = Autocast.input(x), (weight, roundWeight) = Autocast.roundedInput(weight)
    let g = Conv2DGeometry(
        kernel: (weight.shape[2], weight.shape[3]), stride: stride, padding: padding, dilation: dilation)
    let (xd, wd) = (x.data, weight.data)
    // The kernels read 16-bit inputs and weights directly (widening while they unfold and
    // pack), write a 16-bit output rounded once, and read a 16-bit dy as they gather it.
    let inputs = [x, weight] + (bias.map { [$0] } ?? [])
    let y = Conv2D.forward(
        xd, wd, bias: bias?.values, g, groups: groups, output: Autocast.gemmOutputType(inputs: inputs),
        weightRounding: roundWeight)
    return Tensor.record("conv2d", y, inputs: inputs, halfGradient: true) { dy in
        let (dx, dw, db) = Conv2D.backward(
            dy, x: xd, w: wd, hasBias: bias != nil, g, groups: groups, needInput: x.requiresGrad,
            weightRounding: roundWeight, addingWeight: weight.gradientBuffer)
        return [dx, dw] + (bias != nil ? [db] : [])
    }
}

/// Transposed 2-D convolution as PyTorch's conv_transpose2d.
/// - Parameters:
///   - x: (N, Cin, H, W).
///   - weight: (Cin, Cout/groups, KH, KW).
///   - bias: (Cout) or nil.
///   - stride: the stride of the convolution this one transposes (rows, columns).
///   - padding: that convolution's padding, removed from the output's border.
///   - outputPadding: extra size on the bottom/right, to pick among the shapes a strided conv maps to one.
///   - dilation: spacing between kernel taps (rows, columns).
///   - groups: split the channels into groups; Cin and Cout must divide by it.
/// - Returns: (N, Cout, OH, OW).
public func convTranspose2d(
    _ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1),
    padding: (Int, Int) = (0, 0), outputPadding: (Int, Int) = (0, 0),
    dilation: (Int, Int) = (1, 1), groups: Int = 1
) -> Tensor {
    // As conv2d: the input is cast under autocast, an fp32 weight leaf is read rounded, and the
    // kernels read 16-bit inputs, weights and gradients as they are.
    let x = Autocast.input(x), (weight, roundWeight) = Autocast.roundedInput(weight)
    let g = Conv2DGeometry(
        kernel: (weight.shape[2], weight.shape[3]), stride: stride, padding: padding, dilation: dilation)
    let (xd, wd) = (x.data, weight.data)
    let y = Conv2D.transposedForward(
        xd, wd, bias: bias?.values, g, groups: groups, outputPadding: outputPadding,
        weightRounding: roundWeight)
    let inputs = [x, weight] + (bias.map { [$0] } ?? [])
    return Tensor.record(
        "conv_transpose2d", y, inputs: inputs, outputType: Autocast.gemmOutputType(inputs: inputs),
        halfGradient: true
    ) { dy in
        let (dx, dw, db) = Conv2D.transposedBackward(
            dy, x: xd, w: wd, hasBias: bias != nil, g, groups: groups,
            needInput: x.requiresGrad, weightRounding: roundWeight,
            addingWeight: weight.gradientBuffer)
        return [dx, dw] + (bias != nil ? [db] : [])
    }
}
