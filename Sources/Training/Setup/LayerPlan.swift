import NN
import TensorCore

/// One layer of a `sequential` model, read from `model.layers` and sized: what it is, where
/// it is declared and its shapes per sample, all known before any parameter is made.
struct LayerPlan {
    /// The convolution options of conv and conv_transpose.
    struct Convolution {
        var inputs = 0, outputs = 0, groups = 1
        var kernel = (1, 1), stride = (1, 1), padding = (0, 0), outputPadding = (0, 0), dilation = (1, 1)
        var bias = true
    }

    /// What maps a residual block's input to its body's output shape.
    enum Projection {
        /// A 1x1 convolution without bias, strided to the body's resolution.
        case conv(inputs: Int, outputs: Int, stride: (Int, Int))
        /// A linear layer without bias.
        case linear(inputs: Int, outputs: Int)
    }

    enum Kind {
        case linear(inputs: Int, outputs: Int, bias: Bool)
        case conv(Convolution)
        case convTranspose(Convolution)
        case maxPool(kernel: Int, stride: Int, padding: Int)
        case avgPool(kernel: Int, stride: Int, padding: Int)
        case globalAvgPool, flatten
        case batchNorm(channels: Int, momentum: Float, eps: Float)
        case layerNorm(features: Int, eps: Float)
        case dropout(Float)
        case embedding(count: Int, dimension: Int)
        case recurrent(Recurrent.Kind, inputs: Int, hidden: Int, layers: Int, keepsSequence: Bool, forgetBias: Float)
        case activation(Activation)
        case prelu(channels: Int)
        case residual([LayerPlan], projection: Projection?)
    }

    /// Where it is declared, e.g. `model.layers[3].residual[1]`.
    let path: String
    /// Its kind as written (`conv`, `relu`).
    let kindName: String
    /// Its name among its siblings: the `name:` key, else its index.
    let name: String
    let kind: Kind
    /// Shapes of one sample, without the batch axis.
    let input: [Int], output: [Int]

    /// Every layer kind `model.layers` takes, in the order the docs list them.
    static let kinds = [
        "linear", "conv", "conv_transpose", "max_pool", "avg_pool", "global_avg_pool", "batch_norm", "layer_norm",
        "dropout", "flatten", "embedding", "rnn", "lstm", "gru", "relu", "leaky_relu", "elu", "gelu", "silu", "swish",
        "tanh", "sigmoid", "softplus", "prelu", "residual",
    ]

    /// A shape as the messages write it: `(6, 28, 28)`.
    static func show(_ dims: [Int]) -> String { "(" + dims.map(String.init).joined(separator: ", ") + ")" }

    /// Every layer in this plan and its residual blocks, depth first.
    var flattened: [LayerPlan] {
        guard case .residual(let inner, _) = kind else { return [self] }
        return [self] + inner.flatMap(\.flattened)
    }
}
