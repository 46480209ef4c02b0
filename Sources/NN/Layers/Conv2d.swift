import Autograd

/// 2-D convolution layer with PyTorch's options and weight layout (OC, C/groups, KH, KW).
public final class Conv2d: Layer {
    public var training = true
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int), groups: Int
    /// Int8 calibration or inference in place of the fp32 convolution; nil runs fp32.
    public var int8: Int8Mode?

    /// - Parameters:
    ///   - inChannels: C of the input (N, C, H, W).
    ///   - outChannels: OC of the output (N, OC, OH, OW).
    ///   - kernel: (height, width).
    ///   - stride: the kernel's step (rows, columns).
    ///   - padding: zeros added on each side (rows, columns).
    ///   - dilation: spacing between kernel taps (rows, columns).
    ///   - groups: split channels into groups; `groups == inChannels` is depthwise.
    ///   - bias: learn an additive bias per output channel.
    public init(
        _ inChannels: Int, _ outChannels: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1),
        padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1, bias: Bool = true
    ) {
        precondition(
            inChannels % groups == 0 && outChannels % groups == 0,
            "Conv2d: channels \(inChannels) -> \(outChannels) must be divisible by groups \(groups)")
        weight = Init.defaultWeight([outChannels, inChannels / groups, kernel.0, kernel.1])
        self.bias = bias ? Init.defaultBias(outChannels, fanIn: inChannels / groups * kernel.0 * kernel.1) : nil
        (self.stride, self.padding, self.dilation, self.groups) = (stride, padding, dilation, groups)
    }

    /// Square-kernel convenience.
    public convenience init(
        _ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
        dilation: Int = 1, groups: Int = 1, bias: Bool = true
    ) {
        self.init(
            inChannels, outChannels, kernel: (kernel, kernel), stride: (stride, stride), padding: (padding, padding),
            dilation: (dilation, dilation), groups: groups, bias: bias)
    }

    /// (N, C, H, W) to (N, OC, OH, OW).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        if let int8 { return ShapeTrace.note(self, int8.applyConv(x, self)) }
        let y = conv2d(
            x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
        return ShapeTrace.note(self, y)
    }
}

/// Transposed 2-D convolution layer, weight (Cin, Cout/groups, KH, KW) as in PyTorch.
public final class ConvTranspose2d: Layer {
    public var training = true
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: (Int, Int), padding: (Int, Int), outputPadding: (Int, Int), dilation: (Int, Int), groups: Int

    public init(
        _ inChannels: Int, _ outChannels: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1),
        padding: (Int, Int) = (0, 0), outputPadding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1),
        groups: Int = 1, bias: Bool = true
    ) {
        precondition(
            inChannels % groups == 0 && outChannels % groups == 0,
            "ConvTranspose2d: channels \(inChannels) -> \(outChannels) must be divisible by groups \(groups)")
        // PyTorch computes fan_in from dim 1 of this weight, i.e. Cout/groups · KH · KW.
        weight = Init.defaultWeight([inChannels, outChannels / groups, kernel.0, kernel.1])
        self.bias = bias ? Init.defaultBias(outChannels, fanIn: outChannels / groups * kernel.0 * kernel.1) : nil
        (self.stride, self.padding, self.outputPadding, self.dilation, self.groups) = (
            stride, padding, outputPadding, dilation, groups
        )
    }

    /// (N, Cin, H, W) to (N, Cout, OH, OW).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let y = convTranspose2d(
            x, weight: weight, bias: bias, stride: stride, padding: padding, outputPadding: outputPadding,
            dilation: dilation, groups: groups)
        return ShapeTrace.note(self, y)
    }
}
