import Autograd

/// A lookup table of `count` vectors of `dimension`, initialised N(0, 1) as in PyTorch.
public final class Embedding: Layer {
    public var training = true
    public let weight: Tensor

    public init(_ count: Int, _ dimension: Int) {
        weight = Tensor(Init.normal([count, dimension]), requiresGrad: true)
    }

    /// int32 ids of shape S to vectors (S..., dimension).
    public func callAsFunction(_ ids: NDArray) -> Tensor { ShapeTrace.note(self, embedding(weight, ids: ids)) }

    /// The same lookup with the int32 ids held in a tensor (the first layer of a sequential model).
    public func callAsFunction(_ ids: Tensor) -> Tensor { self(ids.data) }
}
