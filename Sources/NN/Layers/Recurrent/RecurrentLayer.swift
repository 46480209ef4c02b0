import Autograd

/// A recurrent stack as a layer of a sequential model: (B, T, I) to the last step's hidden
/// state (B, H), or to every step's (B, T, H).
public final class RecurrentLayer: Layer, ModuleContainer, TensorNaming {
    public var training = true
    public let recurrent: Recurrent
    /// Return every step's output rather than the last one.
    public let keepsSequence: Bool

    /// - Parameters:
    ///   - recurrent: the stack (its cells are this layer's children, `layers.0` and so on).
    ///   - keepsSequence: (B, T, H) when true, else (B, H).
    public init(_ recurrent: Recurrent, keepsSequence: Bool) {
        (self.recurrent, self.keepsSequence) = (recurrent, keepsSequence)
    }

    /// The cells under the names `Recurrent` gives them, so parameter names match the built-in models'.
    public var containedModules: [(String, any Module)] { recurrent.namedChildren }

    /// As `Recurrent` saves them: the layer plays `nn.LSTM` (`weight_ih_l0`...).
    public func exportedName(of name: String) -> String { Recurrent.torchName(of: name) }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let (output, final) = recurrent(x)
        return ShapeTrace.note(self, keepsSequence ? output : final[final.count - 1][0])
    }
}
