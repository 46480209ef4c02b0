import NN

/// A regressor declared as a list of layers (`model.name: sequential` with `data.task:
/// regression`): the layers in order map the inputs to the targets.
public final class SequentialRegressor: Regressor, ModuleContainer {
    public var training = true
    public let body: NamedSequential
    public let regressionLoss: RegressionLoss
    public let outputs: Int

    /// - Parameters:
    ///   - layers: the layers with their names; the last one outputs (N, outputs).
    ///   - outputs: targets per sample.
    ///   - loss: what training minimises.
    public init(_ layers: [(name: String, layer: any Layer)], outputs: Int, loss: RegressionLoss) {
        body = NamedSequential(layers)
        (self.outputs, regressionLoss) = (outputs, loss)
    }

    public var containedModules: [(String, any Module)] { body.containedModules }

    public func predictions(_ inputs: NDArray) -> Tensor { body(Tensor(inputs)) }
}
