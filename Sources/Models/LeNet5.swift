import NN

/// LeNet-5 (LeCun et al. 1998) as it is trained today: ReLU and max pooling in place of the
/// paper's scaled tanh and trainable subsampling, and a full C3 connection table.
///
/// (N, 1, 28, 28) → C1 conv 5x5 pad 2 → (N, 6, 28, 28) → S2 pool → (N, 6, 14, 14)
/// → C3 conv 5x5 → (N, 16, 10, 10) → S4 pool → (N, 16, 5, 5) → F5 120 → F6 84 → output.
public final class LeNet5: Classifier {
    public var training = true
    public let c1 = Conv2d(1, 6, kernel: 5, padding: 2)
    public let s2 = MaxPool2d(kernel: 2)
    public let c3 = Conv2d(6, 16, kernel: 5)
    public let s4 = MaxPool2d(kernel: 2)
    public let f5 = Linear(16 * 5 * 5, 120)
    public let f6 = Linear(120, 84)
    public let output: Linear
    public let dropout: Dropout?
    /// The nonlinearity after C1, C3, F5 and F6.
    public let activation: Activation

    /// - Parameters:
    ///   - classes: outputs (10 for Fashion-MNIST).
    ///   - dropout: dropout before the output layer (0 for none).
    ///   - activation: the nonlinearity (ReLU, as LeNet-5 is trained today).
    public init(classes: Int = 10, dropout: Float = 0, activation: Activation = .relu) {
        self.activation = activation
        output = Linear(84, classes)
        self.dropout = dropout > 0 ? Dropout(dropout) : nil
    }

    public func logits(_ inputs: NDArray) -> Tensor {
        let f = activation
        var x = s2(c1(Tensor(inputs)).activation(f))
        x = s4(c3(x).activation(f)).flattened(from: 1)
        x = f6(f5(x).activation(f)).activation(f)
        if let dropout { x = dropout(x) }
        return output(x)
    }
}
