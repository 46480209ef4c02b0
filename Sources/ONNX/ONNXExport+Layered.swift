import Models
import NN

extension ONNXExport {
    /// The feed-forward models: the MLPs, the CNNs and the sequential models, each read as its
    /// `logits` or `predictions` reads (see Sources/Models).
    static func layered(_ model: any Module, _ spec: Input, _ g: GraphBuilder) throws -> (
        [ONNXValue], [(String, ONNXValue)]
    ) {
        let x = input(spec, g)
        switch model {
        case let m as MLP: return ([x], [("logits", try mlp(m.hidden, m.output, x, g))])
        case let m as MLPRegressor: return ([x], [("predictions", try mlp(m.hidden, m.output, x, g))])
        case let m as LeNet5:
            let f = m.activation
            var h = g.activation(f, g.conv2d(m.c1, x, scope: "c1"), scope: "c1")
            h = g.maxPool(m.s2, h, scope: "s2")
            h = g.activation(f, g.conv2d(m.c3, h, scope: "c3"), scope: "c3")
            h = g.flatten(g.maxPool(m.s4, h, scope: "s4"), scope: "s4")
            h = g.activation(f, g.linear(m.f5, h, scope: "f5"), scope: "f5")
            h = g.activation(f, g.linear(m.f6, h, scope: "f6"), scope: "f6")
            return ([x], [("logits", g.linear(m.output, h, scope: "output"))])
        case let m as ResNet:
            var h = g.batchNorm(m.stemNorm, g.conv2d(m.stem, x, scope: "stem"), scope: "stemNorm")
            h = g.activation(m.activation, h, scope: "stem")
            for (i, block) in m.blocks.enumerated() { h = try g.layer(block, h, scope: "blocks.\(i)") }
            return ([x], [("logits", g.linear(m.head, g.globalAvgPool(h, scope: "pool"), scope: "head"))])
        case let m as MobileNet:
            var h = g.batchNorm(m.stemNorm, g.conv2d(m.stem, x, scope: "stem"), scope: "stemNorm")
            h = g.activation(m.activation, h, scope: "stem")
            for (i, block) in m.blocks.enumerated() { h = try g.layer(block, h, scope: "blocks.\(i)") }
            return ([x], [("logits", g.linear(m.head, g.globalAvgPool(h, scope: "pool"), scope: "head"))])
        case let m as InceptionNet:
            var h = try g.layer(m.stem, x, scope: "stem")
            h = g.maxPool(m.pool, try g.layer(m.first, h, scope: "first"), scope: "pool")
            h = try g.layer(m.second, h, scope: "second")
            return ([x], [("logits", g.linear(m.head, g.globalAvgPool(h, scope: "pool"), scope: "head"))])
        case let m as SequentialClassifier: return ([x], [("logits", try g.layer(m.body, x, scope: ""))])
        case let m as SequentialRegressor: return ([x], [("predictions", try g.layer(m.body, x, scope: ""))])
        default: throw ONNXExportError.unsupported(model, at: "")
        }
    }

    /// Flatten, the hidden layers (named hidden.0, hidden.1...), the output layer.
    static func mlp(_ hidden: [any Layer], _ output: Linear, _ x: ONNXValue, _ g: GraphBuilder) throws -> ONNXValue {
        var h = x.rank > 2 ? g.flatten(x, scope: "input") : x
        for (i, layer) in hidden.enumerated() { h = try g.layer(layer, h, scope: "hidden.\(i)") }
        return g.linear(output, h, scope: "output")
    }

    /// Bengio's model: embed the context, concatenate, tanh layer, logits.
    static func charMLP(_ m: CharMLP, _ spec: Input, _ g: GraphBuilder) -> ([ONNXValue], [(String, ONNXValue)]) {
        let ids = input(spec, g)
        let e = g.flatten(g.embedding(m.embedding.weight, ids, scope: "embedding"), scope: "embedding")
        let h = g.unary("Tanh", g.linear(m.hidden, e, scope: "hidden"), scope: "hidden")
        return ([ids], [("logits", g.linear(m.output, h, scope: "output"))])
    }
}
