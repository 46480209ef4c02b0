import Autograd
import Models
import NN

/// A classifier's inference as a straight list of steps, the form int8 quantization converts:
/// the convolutions and linear layers that get int8 weights (with the ReLU that follows each
/// fused in), and the shape steps between them. Dropout is the identity at inference.
public struct InferencePlan {
    public enum Step {
        case conv(name: String, Conv2d, relu: Bool)
        case linear(name: String, Linear, relu: Bool)
        case maxPool(MaxPool2d)
        case flatten
    }

    public let steps: [Step]
    /// The model the steps come from, by `model.name`.
    public let modelName: String

    /// Models whose inference is such a list.
    public static let supported = ["mlp", "lenet5"]

    /// - Parameters:
    ///   - model: a trained model.
    ///   - name: its `model.name`, for the error when it has no int8 path.
    public init(_ model: any Module, name: String) throws {
        modelName = name
        switch model {
        case let mlp as MLP:
            var steps: [Step] = [.flatten]
            for (i, layer) in mlp.hidden.enumerated() {
                guard let linear = layer as? Linear else { continue }
                let next = mlp.hidden.dropFirst(i + 1).first { !($0 is NN.Dropout) }
                steps.append(.linear(name: "hidden.\(i)", linear, relu: (next as? ActivationLayer)?.function == .relu))
            }
            self.steps = steps + [.linear(name: "output", mlp.output, relu: false)]
        case let net as LeNet5:
            steps = [
                .conv(name: "c1", net.c1, relu: true), .maxPool(net.s2), .conv(name: "c3", net.c3, relu: true),
                .maxPool(net.s4),
                .flatten, .linear(name: "f5", net.f5, relu: true), .linear(name: "f6", net.f6, relu: true),
                .linear(name: "output", net.output, relu: false),
            ]
        default:
            throw ConfigError(
                "int8 quantization covers model.name \(Self.supported.joined(separator: " and ")) (linear, convolution, "
                    + "ReLU and max-pooling layers); \(name) is not supported yet")
        }
    }

    /// Runs the steps in fp32, handing each int8 layer's input to `observe` first.
    /// - Parameters:
    ///   - inputs: a batch as the dataset gives it.
    ///   - observe: (layer name, its input values).
    /// - Returns: the logits.
    public func run(_ inputs: NDArray, observe: (String, NDArray) -> Void = { _, _ in }) -> NDArray {
        withNoGrad {
            var x = Tensor(inputs)
            for step in steps {
                switch step {
                case let .conv(name, layer, relu):
                    observe(name, x.values)
                    x = layer(x)
                    if relu { x = x.relu() }
                case let .linear(name, layer, relu):
                    observe(name, x.values)
                    x = layer(x)
                    if relu { x = x.relu() }
                case let .maxPool(pool): x = pool(x)
                case .flatten: x = x.flattened(from: 1)
                }
            }
            return x.values
        }
    }
}
