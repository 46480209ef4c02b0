import Datasets
import NN
import TensorCore

/// Reads `model.layers` into `LayerPlan`s, inferring every layer's shapes from the data's
/// input shape, so that each mistake is a `ConfigError` naming the layer before anything is built.
enum SequentialPlanner {
    /// What the model reads.
    struct Input {
        /// One sample's shape.
        var shape: [Int]
        /// int32 token ids rather than float32 features.
        var tokens: Bool
        /// The token count, when the data knows it (the default embedding size).
        var vocabulary: Int?
    }

    /// The plan of a list of layers.
    /// - Parameters:
    ///   - entries: the YAML entries.
    ///   - input: what the first layer reads.
    ///   - path: the list's key path (`model.layers`, or a residual block's).
    static func plan(_ entries: [LayerValue], input: Input, path: String = "model.layers") throws -> [LayerPlan] {
        var plans: [LayerPlan] = [], current = input
        for (i, entry) in entries.enumerated() {
            let here = "\(path)[\(i)]"
            let (kind, name, options) = try split(entry, here)
            let plan = try layer(kind, name: name ?? "\(i)", options: options, input: current, path: here)
            if let other = plans.first(where: { $0.name == plan.name }) {
                throw ConfigError(
                    "\(here) \(kind) has the name \(plan.name), which \(other.path) has; give each layer its own name")
            }
            plans.append(plan)
            current = Input(shape: plan.output, tokens: false, vocabulary: nil)
        }
        guard !plans.isEmpty else {
            throw ConfigError("\(path) is empty; give at least one layer, e.g. [flatten, {linear: {out: 10}}]")
        }
        return plans
    }

    /// An entry's kind, its `name:` if any, and its options.
    static func split(_ entry: LayerValue, _ path: String) throws -> (String, String?, LayerOptions) {
        let form = "each entry is one layer: - relu, or - conv: {out: 6, kernel: 5}"
        var kind: String, value = LayerValue.null, name: LayerValue?
        switch entry {
        case .string(let k): kind = k
        case .mapping(let entries):
            let kinds = entries.filter { $0.key != "name" }
            guard kinds.count == 1 else { throw ConfigError("\(path) is \(entry); \(form)") }
            (kind, value, name) = (kinds[0].key, kinds[0].value, entries.first { $0.key == "name" }?.value)
        default: throw ConfigError("\(path) is \(entry); \(form)")
        }
        guard LayerPlan.kinds.contains(kind) else {
            throw ConfigError(
                "\(path) \(kind) is not a layer kind; " + NameSuggestion.unknown(kind, allowed: LayerPlan.kinds))
        }
        let example = examples[kind] ?? "- \(kind)"
        let values: [LayerValue.Entry]
        switch value {
        case .null: values = []
        case .mapping(let entries): values = entries
        case .list where kind == "residual": values = [.init("layers", value)]
        default: throw ConfigError("\(path) \(kind) is \(value); allowed: a mapping of its keys, e.g. \(example)")
        }
        let options = LayerOptions(path: path, kind: kind, values: values, example: example)
        if let given = options.value("name") { name = given }
        guard let name else { return (kind, nil, options) }
        guard case .string(let text) = name, let first = text.first, first.isLetter || first == "_",
            text.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), text != "projection"
        else {
            throw ConfigError(
                "\(path) \(kind) key name is \(name); allowed: letters, digits and _, starting with a letter "
                    + "(not projection), e.g. c1")
        }
        return (kind, text, options)
    }

    /// An example of each kind with its required keys, for messages.
    static let examples = [
        "linear": "- linear: {out: 10}", "conv": "- conv: {out: 6, kernel: 5}",
        "conv_transpose": "- conv_transpose: {out: 6, kernel: 2, stride: 2}", "max_pool": "- max_pool: {kernel: 2}",
        "avg_pool": "- avg_pool: {kernel: 2}", "embedding": "- embedding: {dim: 32}",
        "rnn": "- rnn: {hidden: 64}", "lstm": "- lstm: {hidden: 64}", "gru": "- gru: {hidden: 64}",
        "residual": "- residual: [{conv: {out: 16, kernel: 3, padding: 1}}, relu]",
    ]

    /// One layer's plan.
    static func layer(_ kind: String, name: String, options o: LayerOptions, input: Input, path: String) throws
        -> LayerPlan
    {
        let x = input.shape, shown = LayerPlan.show(x)
        func plan(_ k: LayerPlan.Kind, _ output: [Int]) -> LayerPlan {
            LayerPlan(path: path, kindName: kind, name: name, kind: k, input: x, output: output)
        }
        if kind == "embedding" {
            try o.checkKeys(["dim", "count"])
            guard input.tokens else {
                throw ConfigError("\(o.label) needs int32 token ids but gets float32 features \(shown)")
            }
            let dimension = try o.int("dim")
            // The data's token count is the default table size; data without one needs `count`.
            let count = try o.int("count", input.vocabulary)
            // A table smaller than the data's token ids would be read past its end.
            if let tokens = input.vocabulary, count < tokens {
                throw ConfigError("\(o.label) count \(count) is below the data's \(tokens) token ids; leave count out")
            }
            return plan(.embedding(count: count, dimension: dimension), x + [dimension])
        }
        if input.tokens {
            throw ConfigError(
                "\(o.label) gets int32 token ids \(shown); start with an embedding, e.g. - embedding: {dim: 32}")
        }
        switch kind {
        case "linear":
            try o.checkKeys(["out", "in", "bias"])
            let outputs = try o.int("out"), bias = try o.bool("bias", true)
            guard x.count == 1 || x.count == 2 else {
                throw ConfigError(
                    "\(o.label) needs (features) or (steps, features) but gets \(shown); put - flatten before it")
            }
            if let stated = o.value("in"), try o.int("in") != x[x.count - 1] {
                throw ConfigError("\(o.label) has in: \(stated) but gets \(x[x.count - 1]) features \(shown)")
            }
            return plan(.linear(inputs: x[x.count - 1], outputs: outputs, bias: bias), x.dropLast() + [outputs])
        case "conv", "conv_transpose":
            return try convolution(kind, o, x, plan)
        case "max_pool", "avg_pool":
            try o.checkKeys(["kernel", "stride", "padding"])
            try image(o, x)
            let k = try o.int("kernel"), s = try o.int("stride", k), p = try o.int("padding", 0, minimum: 0)
            guard p <= k / 2 else {
                throw ConfigError(
                    "\(o.label) padding \(p) is more than half its kernel \(k); allowed: at most \(k / 2)")
            }
            guard x[1] + 2 * p >= k && x[2] + 2 * p >= k else {
                throw ConfigError("\(o.label) kernel \(k)x\(k) is larger than its input \(shown) (padding \(p))")
            }
            let out = [x[0], (x[1] + 2 * p - k) / s + 1, (x[2] + 2 * p - k) / s + 1]
            return plan(
                kind == "max_pool"
                    ? .maxPool(kernel: k, stride: s, padding: p) : .avgPool(kernel: k, stride: s, padding: p), out)
        case "global_avg_pool":
            try o.checkKeys([])
            try image(o, x)
            return plan(.globalAvgPool, [x[0]])
        case "flatten":
            try o.checkKeys([])
            return plan(.flatten, [x.reduce(1, *)])
        case "batch_norm":
            try o.checkKeys(["momentum", "eps"])
            let momentum = try o.double("momentum", 0.1, "0 < momentum <= 1") { $0 > 0 && $0 <= 1 }
            let eps = try o.double("eps", 1e-5, "a positive number") { $0 > 0 }
            return plan(.batchNorm(channels: x[0], momentum: Float(momentum), eps: Float(eps)), x)
        case "layer_norm":
            try o.checkKeys(["eps"])
            let eps = try o.double("eps", 1e-5, "a positive number") { $0 > 0 }
            return plan(.layerNorm(features: x[x.count - 1], eps: Float(eps)), x)
        case "dropout":
            try o.checkKeys(["p"])
            return plan(.dropout(Float(try o.double("p", 0.5, "0 <= p < 1") { $0 >= 0 && $0 < 1 })), x)
        case "rnn", "lstm", "gru":
            try o.checkKeys(
                kind == "rnn" ? ["hidden", "layers", "keep"] : ["hidden", "layers", "keep", "forget_bias"])
            guard x.count == 2 else {
                throw ConfigError("\(o.label) needs (steps, features) but gets \(shown)")
            }
            let hidden = try o.int("hidden"), layers = try o.int("layers", 1)
            let keep = try o.choice("keep", "last", ["last", "sequence"])
            let forgetBias = try o.double("forget_bias", 0, "a number") { _ in true }
            let k = Recurrent.Kind(rawValue: kind)!
            return plan(
                .recurrent(
                    k, inputs: x[1], hidden: hidden, layers: layers, keepsSequence: keep == "sequence",
                    forgetBias: Float(forgetBias)),
                keep == "sequence" ? [x[0], hidden] : [hidden])
        case "prelu":
            try o.checkKeys(["shared"])
            return plan(.prelu(channels: try o.bool("shared", false) ? 1 : x[0]), x)
        case "residual":
            return try residual(o, x, plan)
        default:
            return plan(.activation(try activation(kind, o)), x)
        }
    }

    /// Pointwise activations with their parameters (PyTorch's defaults).
    static func activation(_ kind: String, _ o: LayerOptions) throws -> Activation {
        let any: (Double) -> Bool = { _ in true }
        switch kind {
        case "leaky_relu":
            try o.checkKeys(["slope"])
            return .leakyRelu(slope: Float(try o.double("slope", 0.01, "a number", any)))
        case "elu":
            try o.checkKeys(["alpha"])
            return .elu(alpha: Float(try o.double("alpha", 1, "a number", any)))
        case "gelu":
            try o.checkKeys(["approximate"])
            return try o.bool("approximate", false) ? .geluTanh : .geluErf
        case "softplus":
            try o.checkKeys(["beta", "threshold"])
            let beta = try o.double("beta", 1, "a positive number") { $0 > 0 }
            return .softplus(beta: Float(beta), threshold: Float(try o.double("threshold", 20, "a number", any)))
        default:
            try o.checkKeys([])
            let plain: [String: Activation] = [
                "relu": .relu, "silu": .silu, "swish": .silu, "tanh": .tanh, "sigmoid": .sigmoid,
            ]
            return plain[kind]!
        }
    }

    /// Images (C, H, W), or the error naming the layer and what it gets.
    static func image(_ o: LayerOptions, _ x: [Int]) throws {
        guard x.count == 3 else {
            throw ConfigError("\(o.label) needs (channels, height, width) but gets \(LayerPlan.show(x))")
        }
    }
}
