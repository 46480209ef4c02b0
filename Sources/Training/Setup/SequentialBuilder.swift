import Datasets
import Models
import NN
import TensorCore

/// Builds a `sequential` model: plans `model.layers` against the training split's shapes,
/// checks that the last layer gives what the data's targets need, then makes the layers in
/// order (so a declared LeNet-5 draws the built-in one's initial weights).
enum SequentialBuilder {
    /// What the first layer reads.
    static func input(_ data: any Dataset) -> SequentialPlanner.Input {
        let tokens = data.inputType == .int32
        let vocabulary = (data as? TensorDataset)?.tokenCount ?? (tokens ? data.classCount : nil)
        return .init(shape: data.inputShape.dims, tokens: tokens, vocabulary: vocabulary)
    }

    /// The checked plan of `config.layers` for `data`.
    static func plan(_ config: ModelConfig, _ data: any Dataset) throws -> [LayerPlan] {
        guard let entries = config.declaredLayers else {
            throw ConfigError(
                "model.name sequential needs model.layers: a list of layers, e.g. [flatten, {linear: {out: 10}}]")
        }
        let plans = try SequentialPlanner.plan(entries, input: input(data))
        let last = plans[plans.count - 1]
        let regression = data.task == .regression
        let width = regression ? data.targetWidth : data.classCount
        let steps = data.targetsPerSample
        let needed = steps > 1 ? [steps, width] : [width]
        guard last.output == needed else {
            let what = regression ? "\(width) target\(width == 1 ? "" : "s")" : "\(width) classes"
            let perStep = steps > 1 ? " at each of \(steps) steps" : ""
            throw ConfigError(
                "\(last.path) \(last.kindName) outputs \(LayerPlan.show(last.output)) per sample, but the data needs "
                    + "\(LayerPlan.show(needed)) (\(what)\(perStep)); end with - linear: {out: \(width)}")
        }
        return plans
    }

    /// The model for `data`: a classifier, or a regressor with `data.task: regression`.
    static func model(_ config: ModelConfig, _ data: any Dataset) throws -> any TrainableModel {
        let built = layers(try plan(config, data))
        if data.task == .regression {
            return SequentialRegressor(built, outputs: data.targetWidth, loss: config.regressionLoss)
        }
        return SequentialClassifier(built)
    }

    /// The layers of a plan, made in order, each with its name.
    static func layers(_ plans: [LayerPlan]) -> [(name: String, layer: any Layer)] {
        plans.map { ($0.name, layer($0)) }
    }

    static func layer(_ plan: LayerPlan) -> any Layer {
        switch plan.kind {
        case let .linear(inputs, outputs, bias): return Linear(inputs, outputs, bias: bias)
        case .conv(let c):
            return Conv2d(
                c.inputs, c.outputs, kernel: c.kernel, stride: c.stride, padding: c.padding, dilation: c.dilation,
                groups: c.groups, bias: c.bias)
        case .convTranspose(let c):
            return ConvTranspose2d(
                c.inputs, c.outputs, kernel: c.kernel, stride: c.stride, padding: c.padding,
                outputPadding: c.outputPadding, dilation: c.dilation, groups: c.groups, bias: c.bias)
        case let .maxPool(kernel, stride, padding): return MaxPool2d(kernel: kernel, stride: stride, padding: padding)
        case let .avgPool(kernel, stride, padding): return AvgPool2d(kernel: kernel, stride: stride, padding: padding)
        case .globalAvgPool: return GlobalAvgPool2d()
        case .flatten: return Flatten()
        case let .batchNorm(channels, momentum, eps): return BatchNorm(channels, momentum: momentum, eps: eps)
        case let .layerNorm(features, eps): return LayerNorm(features, eps: eps)
        case .dropout(let p): return Dropout(p)
        case let .embedding(count, dimension): return Embedding(count, dimension)
        case let .recurrent(kind, inputs, hidden, layers, keepsSequence, forgetBias):
            let stack = Recurrent(kind, inputSize: inputs, hiddenSize: hidden, layers: layers, forgetBias: forgetBias)
            return RecurrentLayer(stack, keepsSequence: keepsSequence)
        case .activation(let f): return ActivationLayer(f)
        case .prelu(let channels): return PReLU(channels: channels)
        case let .residual(inner, projection):
            let body = layers(inner)
            switch projection {
            case nil: return Residual(body)
            case let .conv(inputs, outputs, stride)?:
                return Residual(body, projection: Conv2d(inputs, outputs, kernel: (1, 1), stride: stride, bias: false))
            case let .linear(inputs, outputs)?:
                return Residual(body, projection: Linear(inputs, outputs, bias: false))
            }
        }
    }
}
