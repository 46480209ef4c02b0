import Autograd
import Models
import NN

/// A classifier's inference as a straight list of steps, the form the fused int8 program converts:
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
    /// The model the steps come from.
    public let modelName: ModelName

    /// Models whose inference is such a list.
    public static var supported: [String] { ModelRegistry.entries.filter { $0.int8Steps != nil }.map(\.name) }

    /// - Parameters:
    ///   - model: a trained model.
    ///   - name: its `model.name`, whose registry entry gives the steps.
    public init(_ model: any Module, name: ModelName) throws {
        guard let steps = name.entry.int8Steps?(model) else {
            throw ConfigError(
                "the fused int8 form covers model.name \(Self.supported.joined(separator: " and ")) with ReLU; "
                    + "quantize \(name) with --form layers")
        }
        (self.steps, modelName) = (steps, name)
    }

    /// An MLP's steps: each linear layer with the ReLU that follows it (dropout skipped).
    static func steps(of mlp: MLP) -> [Step] {
        var steps: [Step] = [.flatten]
        for (i, layer) in mlp.hidden.enumerated() {
            guard let linear = layer as? Linear else { continue }
            let next = mlp.hidden.dropFirst(i + 1).first { !($0 is NN.Dropout) }
            steps.append(.linear(name: "hidden.\(i)", linear, relu: (next as? ActivationLayer)?.function == .relu))
        }
        return steps + [.linear(name: "output", mlp.output, relu: false)]
    }

    /// LeNet-5's steps: C1, S2, C3, S4, F5, F6 and the output layer.
    static func steps(of net: LeNet5) -> [Step] {
        [
            .conv(name: "c1", net.c1, relu: true), .maxPool(net.s2), .conv(name: "c3", net.c3, relu: true),
            .maxPool(net.s4), .flatten, .linear(name: "f5", net.f5, relu: true),
            .linear(name: "f6", net.f6, relu: true), .linear(name: "output", net.output, relu: false),
        ]
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
