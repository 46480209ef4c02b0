import NN

/// A multilayer perceptron for regression: the MLP's hidden layers, then a Linear to the
/// targets with no activation (scikit-learn's `MLPRegressor`, PyTorch's usual regression head).
public final class MLPRegressor: Regressor {
    public var training = true
    public let hidden: [any Layer]
    public let output: Linear
    public let regressionLoss: RegressionLoss

    /// - Parameters:
    ///   - inputs: features per sample after flattening.
    ///   - hiddenSizes: width of each hidden layer.
    ///   - outputs: targets per sample.
    ///   - dropout: dropout after each hidden activation (0 for none).
    ///   - loss: what training minimises.
    ///   - activation: the nonlinearity after each hidden layer.
    public init(
        inputs: Int, hiddenSizes: [Int], outputs: Int, dropout: Float = 0, loss: RegressionLoss = .mse,
        activation: Activation = .relu
    ) {
        hidden = MLP.hiddenLayers(
            inputs: inputs, hiddenSizes: hiddenSizes, dropout: dropout, activation: activation)
        output = Linear(hiddenSizes.last ?? inputs, outputs)
        regressionLoss = loss
    }

    public var outputs: Int { output.weight.shape[0] }

    /// (N, ...) -> flatten -> hidden layers -> (N, outputs).
    public func predictions(_ inputs: NDArray) -> Tensor {
        output(hidden.reduce(Tensor(inputs).flattened(from: 1)) { $1($0) })
    }
}
