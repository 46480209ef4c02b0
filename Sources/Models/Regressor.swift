import NN

/// The loss a regression model minimises, with PyTorch's definitions and mean reduction.
public enum RegressionLoss: Sendable, Equatable {
    /// Mean squared error (`nn.MSELoss`).
    case mse
    /// Mean absolute error (`nn.L1Loss`).
    case mae
    /// Huber loss with threshold delta (`nn.HuberLoss`): quadratic near 0, linear beyond delta.
    case huber(delta: Float)

    /// The loss of `predictions` against `targets` of the same shape.
    public func callAsFunction(_ predictions: Tensor, _ targets: Tensor) -> Tensor {
        switch self {
        case .mse: return Loss.mse(predictions, targets)
        case .mae: return Loss.l1(predictions, targets)
        case .huber(let delta): return Loss.huber(predictions, targets, delta: delta)
        }
    }
}

/// A model that maps a batch of inputs to real values: the contract the evaluator relies on
/// for MAE, MSE, RMSE and R².
public protocol Regressor: TrainableModel {
    /// What training minimises.
    var regressionLoss: RegressionLoss { get }
    /// Targets per sample (K).
    var outputs: Int { get }
    /// - Parameter inputs: (N, ...) float32 features.
    /// - Returns: predictions (N, K), one column per target.
    func predictions(_ inputs: NDArray) -> Tensor
}

extension Regressor {
    /// The regression loss of the predictions against float32 targets (N, K).
    public func loss(inputs: NDArray, targets: NDArray, labelSmoothing: Float) -> Tensor {
        let predictions = predictions(inputs)
        return regressionLoss(predictions, Tensor(targets.reshaped(predictions.shape)))
    }
}
