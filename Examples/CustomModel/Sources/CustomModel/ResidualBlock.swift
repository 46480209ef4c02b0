import TandemKit

/// The model's own building block: two 3x3 convolutions with batch norm, added to a shortcut.
///
/// y = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)). The shortcut is the input itself,
/// or, when the block halves the resolution and changes the width, a strided 1x1 convolution.
/// Its layers are plain stored properties: Tandem finds them by reflection and names their
/// parameters after them (`blocks.1.conv1.weight`, `blocks.1.shortcut.weight`).
final class ResidualBlock: Layer {
    var training = true
    let conv1: Conv2d, norm1: BatchNorm
    let conv2: Conv2d, norm2: BatchNorm
    let shortcut: Conv2d?

    /// - Parameters:
    ///   - input: channels in.
    ///   - output: channels out.
    ///   - stride: 2 halves the height and width.
    init(_ input: Int, _ output: Int, stride: Int = 1) {
        conv1 = Conv2d(input, output, kernel: 3, stride: stride, padding: 1, bias: false)
        norm1 = BatchNorm(output)
        conv2 = Conv2d(output, output, kernel: 3, padding: 1, bias: false)
        norm2 = BatchNorm(output)
        shortcut = stride != 1 || input != output ? Conv2d(input, output, kernel: 1, stride: stride) : nil
    }

    /// (N, input, H, W) to (N, output, H / stride, W / stride).
    func callAsFunction(_ x: Tensor) -> Tensor {
        let y = norm2(conv2(norm1(conv1(x)).relu()))
        return (y + (shortcut.map { $0(x) } ?? x)).relu()
    }
}
