import NN

extension SequentialPlanner {
    /// conv and conv_transpose: PyTorch's options and output size.
    /// - Parameters:
    ///   - make: the plan for a kind and output shape.
    static func convolution(
        _ kind: String, _ o: LayerOptions, _ x: [Int], _ make: (LayerPlan.Kind, [Int]) -> LayerPlan
    ) throws -> LayerPlan {
        let transposed = kind == "conv_transpose", shown = LayerPlan.show(x)
        try o.checkKeys(
            ["out", "kernel", "stride", "padding"] + (transposed ? ["output_padding"] : [])
                + ["dilation", "groups", "bias"])
        try image(o, x)
        var c = LayerPlan.Convolution()
        (c.inputs, c.outputs, c.kernel) = (x[0], try o.int("out"), try o.pair("kernel"))
        (c.stride, c.padding) = (try o.pair("stride", (1, 1)), try o.pair("padding", (0, 0), minimum: 0))
        (c.dilation, c.groups, c.bias) = (
            try o.pair("dilation", (1, 1)), try o.int("groups", 1), try o.bool("bias", true)
        )
        if transposed { c.outputPadding = try o.pair("output_padding", (0, 0), minimum: 0) }
        guard c.inputs % c.groups == 0 && c.outputs % c.groups == 0 else {
            throw ConfigError(
                "\(o.label) groups \(c.groups) must divide its \(c.inputs) input channels \(shown) "
                    + "and its \(c.outputs) output channels")
        }
        let k = "\(c.kernel.0)x\(c.kernel.1)"
        if transposed {
            guard c.outputPadding.0 < max(c.stride.0, c.dilation.0), c.outputPadding.1 < max(c.stride.1, c.dilation.1)
            else {
                throw ConfigError(
                    "\(o.label) output_padding \(c.outputPadding.0)x\(c.outputPadding.1) must be smaller than its "
                        + "stride or its dilation")
            }
            func size(_ n: Int, _ k: Int, _ s: Int, _ p: Int, _ d: Int, _ op: Int) -> Int {
                (n - 1) * s - 2 * p + d * (k - 1) + op + 1
            }
            let h = size(x[1], c.kernel.0, c.stride.0, c.padding.0, c.dilation.0, c.outputPadding.0)
            let w = size(x[2], c.kernel.1, c.stride.1, c.padding.1, c.dilation.1, c.outputPadding.1)
            guard h > 0 && w > 0 else {
                throw ConfigError("\(o.label) padding \(c.padding.0)x\(c.padding.1) leaves no output from \(shown)")
            }
            return make(.convTranspose(c), [c.outputs, h, w])
        }
        let span = (c.dilation.0 * (c.kernel.0 - 1) + 1, c.dilation.1 * (c.kernel.1 - 1) + 1)
        guard x[1] + 2 * c.padding.0 >= span.0 && x[2] + 2 * c.padding.1 >= span.1 else {
            throw ConfigError(
                "\(o.label) kernel \(k) (dilation \(c.dilation.0)) is larger than its input \(shown) "
                    + "with padding \(c.padding.0)")
        }
        let h = (x[1] + 2 * c.padding.0 - span.0) / c.stride.0 + 1
        let w = (x[2] + 2 * c.padding.1 - span.1) / c.stride.1 + 1
        return make(.conv(c), [c.outputs, h, w])
    }

    /// A residual block: its layers, planned from the block's input, and the projection its sum needs.
    static func residual(_ o: LayerOptions, _ x: [Int], _ make: (LayerPlan.Kind, [Int]) -> LayerPlan) throws
        -> LayerPlan
    {
        try o.checkKeys(["layers", "projection"])
        guard let value = o.value("layers") else { throw o.missing("layers") }
        guard case .list(let items) = value else { throw o.wrong("layers", value, "a list of layers") }
        let projects = try o.bool("projection", false)
        let inner = try plan(items, input: Input(shape: x, tokens: false), path: o.path + ".residual")
        let y = inner[inner.count - 1].output
        guard y != x else { return make(.residual(inner, projection: nil), y) }
        let change =
            "changes the shape \(LayerPlan.show(x)) -> \(LayerPlan.show(y)), but its sum needs the input's shape"
        guard projects else {
            throw ConfigError(
                "\(o.label) \(change); keep the shape, or add a projection: "
                    + "- residual: {projection: true, layers: [...]}")
        }
        if x.count == 3 && y.count == 3, let sh = stride(x[1], to: y[1]), let sw = stride(x[2], to: y[2]) {
            return make(.residual(inner, projection: .conv(inputs: x[0], outputs: y[0], stride: (sh, sw))), y)
        }
        if x.count == 1 && y.count == 1 {
            return make(.residual(inner, projection: .linear(inputs: x[0], outputs: y[0])), y)
        }
        throw ConfigError(
            "\(o.label) \(change), and no projection maps one to the other (a strided 1x1 conv maps images, "
                + "a linear layer features)")
    }

    /// The stride of a 1x1 convolution that takes `n` pixels to `m`, if there is one.
    static func stride(_ n: Int, to m: Int) -> Int? { (1...max(n, 1)).first { (n - 1) / $0 + 1 == m } }
}
