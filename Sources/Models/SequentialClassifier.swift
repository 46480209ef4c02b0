import NN

/// A classifier declared as a list of layers (`model.name: sequential`): the layers in order
/// map the inputs to logits. Its parameters are named after its layers (`c1.weight`).
public final class SequentialClassifier: Classifier, ModuleContainer {
    public var training = true
    public let body: NamedSequential

    /// - Parameter layers: the layers with their names; the last one outputs (N, C) or (N, T, C).
    public init(_ layers: [(name: String, layer: any Layer)]) { body = NamedSequential(layers) }

    public var containedModules: [(String, any Module)] { body.containedModules }

    /// - Returns: (N, C), or (N·T, C) when the last layer gives classes at every step of a sequence.
    public func logits(_ inputs: NDArray) -> Tensor {
        let y = body(Tensor(inputs))
        return y.rank > 2 ? y.reshaped([-1, y.shape[y.rank - 1]]) : y
    }
}
