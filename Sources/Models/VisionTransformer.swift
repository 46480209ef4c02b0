import NN

/// A Vision Transformer (Dosovitskiy et al., 2021) for small images: the image cut into
/// P×P patches, each linearly embedded (a P×P convolution of stride P), a learned class
/// token prepended, learned position embeddings added, L pre-LN transformer blocks, and a
/// linear head on the class token's final LayerNorm output (equation 1-4 of the paper).
public final class VisionTransformer: Classifier {
    public var training = true
    public let patchEmbedding: Conv2d
    public let classToken: Tensor
    public let positionEmbedding: Tensor
    public let embeddingDropout: Dropout
    public let blocks: [TransformerBlock]
    public let finalNorm: LayerNorm
    public let head: Linear

    /// - Parameters:
    ///   - imageSize: (channels, height, width); height and width multiples of `patch`.
    ///   - patch: P, the side of a patch.
    ///   - width: C, the embedding width.
    ///   - layers: L.
    ///   - heads: attention heads per block.
    ///   - classes: outputs.
    ///   - dropout: on embeddings, attention weights and residual branches.
    public init(
        imageSize: (channels: Int, height: Int, width: Int), patch: Int, width: Int, layers: Int, heads: Int,
        classes: Int, dropout: Float = 0
    ) {
        precondition(
            imageSize.height % patch == 0 && imageSize.width % patch == 0,
            "a \(imageSize.height)x\(imageSize.width) image does not divide into \(patch)x\(patch) patches")
        let patches = (imageSize.height / patch) * (imageSize.width / patch)
        patchEmbedding = Conv2d(imageSize.channels, width, kernel: patch, stride: patch)
        classToken = Tensor(Init.zeros([1, 1, width]), requiresGrad: true)
        positionEmbedding = Tensor(Init.normal([1, patches + 1, width], std: 0.02), requiresGrad: true)
        embeddingDropout = Dropout(dropout)
        blocks = (0..<layers).map { _ in TransformerBlock(width: width, heads: heads, dropout: dropout) }
        finalNorm = LayerNorm(width)
        head = Linear(width, classes)
    }

    /// - Parameter inputs: images (N, channels, height, width).
    /// - Returns: logits (N, classes).
    public func logits(_ inputs: NDArray) -> Tensor {
        let n = inputs.shape[0]
        let grid = patchEmbedding(Tensor(inputs))  // (N, C, H/P, W/P)
        let c = grid.shape[1]
        let patches = grid.flattened(from: 2).transposed(1, 2)  // (N, P², C)
        let tokens = concat([classToken.broadcast(to: [n, 1, c]), patches], axis: 1) + positionEmbedding
        var x = embeddingDropout(tokens)  // (N, 1 + P², C)
        for block in blocks { x = block(x) }
        let classOutput = x.slice(axis: 1, start: 0, end: 1).reshaped([n, c])  // only the class token is read
        return head(finalNorm(classOutput))
    }
}
