import NN

/// A multilayer perceptron: flatten, then Linear → ReLU (→ Dropout) per hidden layer, then a
/// Linear to the classes. Zalando's Fashion-MNIST benchmark lists 256-128-100 at 0.883.
public final class MLP: Classifier {
    public var training = true
    public let hidden: [any Layer]
    public let output: Linear
    /// The nonlinearity after each hidden layer.
    public let activation: Activation

    /// - Parameters:
    ///   - inputs: features per sample after flattening (784 for 28x28).
    ///   - hiddenSizes: width of each hidden layer.
    ///   - classes: number of outputs.
    ///   - dropout: dropout after each hidden activation (0 for none).
    ///   - activation: the nonlinearity after each hidden layer.
    public init(inputs: Int, hiddenSizes: [Int], classes: Int, dropout: Float = 0, activation: Activation = .relu) {
        hidden = Self.hiddenLayers(inputs: inputs, hiddenSizes: hiddenSizes, dropout: dropout, activation: activation)
        self.activation = activation
        output = Linear(hiddenSizes.last ?? inputs, classes)
    }

    /// Linear → activation (→ Dropout) for each hidden width, from `inputs` features.
    static func hiddenLayers(inputs: Int, hiddenSizes: [Int], dropout: Float, activation: Activation) -> [any Layer] {
        var layers: [any Layer] = [], width = inputs
        for h in hiddenSizes {
            layers.append(Linear(width, h))
            layers.append(ActivationLayer(activation))
            if dropout > 0 { layers.append(Dropout(dropout)) }
            width = h
        }
        return layers
    }

    public func logits(_ inputs: NDArray) -> Tensor {
        output(hidden.reduce(Tensor(inputs).flattened(from: 1)) { $1($0) })
    }
}
