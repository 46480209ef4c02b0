import TandemKit

/// A small residual CNN for `ShapesDataset`: a 3x3 stem, three `ResidualBlock`s (the last two
/// halve the resolution and double the width), global average pooling and a linear classifier.
///
/// Conforming to `Classifier` is all the trainer needs: it computes the cross-entropy of
/// `logits(_:)` against the targets, and accuracy and the other classification metrics.
final class ShapeNet: Classifier {
    var training = true
    let stem: Conv2d, stemNorm: BatchNorm
    let blocks: [ResidualBlock]
    let head: Linear

    /// - Parameters:
    ///   - width: channels of the stem and the first block.
    ///   - classes: outputs.
    init(width: Int = 8, classes: Int) {
        stem = Conv2d(1, width, kernel: 3, padding: 1, bias: false)
        stemNorm = BatchNorm(width)
        blocks = [
            ResidualBlock(width, width),
            ResidualBlock(width, 2 * width, stride: 2),
            ResidualBlock(2 * width, 4 * width, stride: 2),
        ]
        head = Linear(4 * width, classes)
    }

    /// Images (N, 1, H, W) to logits (N, classes).
    func logits(_ inputs: NDArray) -> Tensor {
        var x = stemNorm(stem(Tensor(inputs))).relu()
        for block in blocks { x = block(x) }
        return head(globalAvgPool2d(x))
    }
}
