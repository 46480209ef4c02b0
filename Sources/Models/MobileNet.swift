import NN

/// The depthwise separable convolution of MobileNet (Howard et al. 2017): a 3x3 depthwise
/// convolution (one filter per channel) with batch norm and ReLU, then a 1x1 pointwise
/// convolution mixing channels, with batch norm and ReLU.
public final class DepthwiseSeparable: Layer {
    public var training = true
    public let depthwise: Conv2d, depthwiseNorm: BatchNorm
    public let pointwise: Conv2d, pointwiseNorm: BatchNorm
    /// The nonlinearity after each normalisation (ReLU in the paper).
    public let activation: Activation

    public init(_ input: Int, _ output: Int, stride: Int = 1, activation: Activation = .relu) {
        self.activation = activation
        depthwise = Conv2d(input, input, kernel: 3, stride: stride, padding: 1, groups: input, bias: false)
        depthwiseNorm = BatchNorm(input)
        pointwise = Conv2d(input, output, kernel: 1, bias: false)
        pointwiseNorm = BatchNorm(output)
    }

    /// (N, input, H, W) to (N, output, H/stride, W/stride).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let y = pointwiseNorm(pointwise(depthwiseNorm(depthwise(x)).activation(activation)))
        return ShapeTrace.note(self, y.activation(activation))
    }
}

/// A MobileNet-style network for small images: a 3x3 stem, depthwise separable blocks that
/// double the channels and halve the resolution at every other block, global average pooling
/// and a linear classifier.
public final class MobileNet: Classifier {
    public var training = true
    public let stem: Conv2d, stemNorm: BatchNorm
    public let blocks: [DepthwiseSeparable]
    public let head: Linear
    public let activation: Activation

    /// - Parameters:
    ///   - inputChannels: 1 for Fashion-MNIST.
    ///   - channels: output channels of each separable block; a block that changes the width
    ///     also halves the resolution (after the first).
    ///   - classes: outputs.
    ///   - activation: the nonlinearity of the stem and every block.
    public init(
        inputChannels: Int = 1, channels: [Int] = [32, 64, 128, 128, 256], classes: Int = 10,
        activation: Activation = .relu
    ) {
        self.activation = activation
        stem = Conv2d(inputChannels, channels[0], kernel: 3, padding: 1, bias: false)
        stemNorm = BatchNorm(channels[0])
        var blocks: [DepthwiseSeparable] = [], width = channels[0]
        for (i, c) in channels.enumerated().dropFirst() {
            blocks.append(DepthwiseSeparable(width, c, stride: i > 1 && c != width ? 2 : 1, activation: activation))
            width = c
        }
        self.blocks = blocks
        head = Linear(width, classes)
    }

    public func logits(_ inputs: NDArray) -> Tensor {
        let x = blocks.reduce(stemNorm(stem(Tensor(inputs))).activation(activation)) { $1($0) }
        return head(globalAvgPool2d(x))
    }
}
