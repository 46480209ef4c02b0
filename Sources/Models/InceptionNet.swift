import NN

/// The Inception module of Szegedy et al. (2015): parallel 1x1, 1x1→3x3, 1x1→5x5 and
/// 3x3-max-pool→1x1 branches over the same input, concatenated along channels. Each
/// convolution is followed by batch norm and ReLU.
public final class InceptionModule: Layer {
    public var training = true
    public let branch1: Sequential, branch3: Sequential, branch5: Sequential, branchPool: Sequential

    /// - Parameters:
    ///   - input: channels in.
    ///   - width: channels of each branch's output; the module outputs 4 · width.
    ///   - activation: the nonlinearity after each batch norm.
    public init(_ input: Int, width: Int, activation: Activation = .relu) {
        func unit(_ i: Int, _ o: Int, _ k: Int) -> [any Layer] {
            [Conv2d(i, o, kernel: k, padding: k / 2, bias: false), BatchNorm(o), ActivationLayer(activation)]
        }
        let reduce = max(width / 2, 1)
        branch1 = Sequential(unit(input, width, 1))
        branch3 = Sequential(unit(input, reduce, 1) + unit(reduce, width, 3))
        branch5 = Sequential(unit(input, reduce, 1) + unit(reduce, width, 5))
        branchPool = Sequential([MaxPool2d(kernel: 3, stride: 1, padding: 1)] + unit(input, width, 1))
    }

    /// (N, input, H, W) to (N, 4·width, H, W).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        ShapeTrace.note(self, concat([branch1(x), branch3(x), branch5(x), branchPool(x)], axis: 1))
    }
}

/// A small Inception-style network: a 3x3 stem with pooling, two Inception modules with
/// pooling between them, global average pooling and a linear classifier.
public final class InceptionNet: Classifier {
    public var training = true
    public let stem: Sequential
    public let first: InceptionModule, second: InceptionModule
    public let pool = MaxPool2d(kernel: 2)
    public let head: Linear

    /// - Parameters:
    ///   - inputChannels: 1 for Fashion-MNIST.
    ///   - channels: [stem width, first module's branch width, second module's branch width].
    ///   - classes: outputs.
    ///   - activation: the nonlinearity after every batch norm.
    public init(
        inputChannels: Int = 1, channels: [Int] = [32, 16, 32], classes: Int = 10, activation: Activation = .relu
    ) {
        stem = Sequential(
            Conv2d(inputChannels, channels[0], kernel: 3, padding: 1, bias: false), BatchNorm(channels[0]),
            ActivationLayer(activation), MaxPool2d(kernel: 2))
        first = InceptionModule(channels[0], width: channels[1], activation: activation)
        second = InceptionModule(4 * channels[1], width: channels[2], activation: activation)
        head = Linear(4 * channels[2], classes)
    }

    public func logits(_ inputs: NDArray) -> Tensor {
        let x = second(pool(first(stem(Tensor(inputs)))))
        return head(globalAvgPool2d(x))
    }
}
