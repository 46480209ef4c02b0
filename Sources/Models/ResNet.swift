import NN

/// The basic residual block of He et al. (2016): two 3x3 convolutions with batch norm, and a
/// shortcut that is the identity, or a strided 1x1 convolution with batch norm when the
/// shape changes. y = ReLU(BN(conv(ReLU(BN(conv(x))))) + shortcut(x)).
public final class BasicBlock: Layer {
    public var training = true
    public let conv1: Conv2d, bn1: BatchNorm, conv2: Conv2d, bn2: BatchNorm
    public let projection: Conv2d?, projectionNorm: BatchNorm?
    /// The nonlinearity after the first convolution and after the sum (ReLU in the paper).
    public let activation: Activation

    /// - Parameters:
    ///   - input: channels in.
    ///   - output: channels out.
    ///   - stride: 2 halves the resolution (first block of a stage).
    ///   - activation: the nonlinearity.
    public init(_ input: Int, _ output: Int, stride: Int = 1, activation: Activation = .relu) {
        self.activation = activation
        conv1 = Conv2d(input, output, kernel: 3, stride: stride, padding: 1, bias: false)
        bn1 = BatchNorm(output)
        conv2 = Conv2d(output, output, kernel: 3, padding: 1, bias: false)
        bn2 = BatchNorm(output)
        let reshapes = stride != 1 || input != output
        projection = reshapes ? Conv2d(input, output, kernel: 1, stride: stride, bias: false) : nil
        projectionNorm = reshapes ? BatchNorm(output) : nil
    }

    /// (N, input, H, W) to (N, output, H/stride, W/stride).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let y = bn2(conv2(bn1(conv1(x)).activation(activation)))
        let shortcut = projection.map { projectionNorm!($0(x)) } ?? x
        return ShapeTrace.note(self, (y + shortcut).activation(activation))
    }
}

/// A ResNet for small images (the CIFAR-style family of He et al.): a 3x3 stem, stages of
/// basic blocks whose first block halves the resolution (except the first stage), global
/// average pooling and a linear classifier. Channels [16, 32, 64] with one block per stage
/// is ResNet-8; two blocks, ResNet-14.
public final class ResNet: Classifier {
    public var training = true
    public let stem: Conv2d, stemNorm: BatchNorm
    public let blocks: [BasicBlock]
    public let head: Linear
    public let activation: Activation

    /// - Parameters:
    ///   - inputChannels: 1 for Fashion-MNIST.
    ///   - channels: width of each stage.
    ///   - blocksPerStage: basic blocks in each stage.
    ///   - classes: outputs.
    ///   - activation: the nonlinearity of the stem and every block (ReLU in the paper).
    public init(
        inputChannels: Int = 1, channels: [Int] = [16, 32, 64], blocksPerStage: Int = 1, classes: Int = 10,
        activation: Activation = .relu
    ) {
        self.activation = activation
        stem = Conv2d(inputChannels, channels[0], kernel: 3, padding: 1, bias: false)
        stemNorm = BatchNorm(channels[0])
        var blocks: [BasicBlock] = [], width = channels[0]
        for (s, c) in channels.enumerated() {
            for b in 0..<blocksPerStage {
                blocks.append(BasicBlock(width, c, stride: s > 0 && b == 0 ? 2 : 1, activation: activation))
                width = c
            }
        }
        self.blocks = blocks
        head = Linear(width, classes)
    }

    /// (N, C, H, W) to logits (N, classes).
    public func logits(_ inputs: NDArray) -> Tensor {
        let x = blocks.reduce(stemNorm(stem(Tensor(inputs))).activation(activation)) { $1($0) }
        return head(globalAvgPool2d(x))
    }
}
