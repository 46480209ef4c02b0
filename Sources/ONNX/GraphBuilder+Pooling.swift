import NN

extension GraphBuilder {
    /// Max pooling (MaxPool).
    public func maxPool(_ layer: MaxPool2d, _ x: ONNXValue, scope: String) -> ONNXValue {
        let attributes: [ONNXAttribute] = [
            .ints("kernel_shape", [layer.kernel.0, layer.kernel.1]),
            .ints("strides", [layer.stride.0, layer.stride.1]),
            .ints("pads", [layer.padding.0, layer.padding.1, layer.padding.0, layer.padding.1]),
            .ints("dilations", [layer.dilation.0, layer.dilation.1]), .int("ceil_mode", layer.ceilMode ? 1 : 0),
        ]
        let shape = pooled(
            x, kernel: layer.kernel, stride: layer.stride, padding: layer.padding, dilation: layer.dilation,
            ceil: layer.ceilMode)
        return node("MaxPool", [x], attributes, scope: scope, shape: shape)
    }

    /// Average pooling (AveragePool).
    public func avgPool(_ layer: AvgPool2d, _ x: ONNXValue, scope: String) -> ONNXValue {
        let attributes: [ONNXAttribute] = [
            .ints("kernel_shape", [layer.kernel.0, layer.kernel.1]),
            .ints("strides", [layer.stride.0, layer.stride.1]),
            .ints("pads", [layer.padding.0, layer.padding.1, layer.padding.0, layer.padding.1]),
            .int("ceil_mode", layer.ceilMode ? 1 : 0), .int("count_include_pad", layer.countIncludePad ? 1 : 0),
        ]
        let shape = pooled(
            x, kernel: layer.kernel, stride: layer.stride, padding: layer.padding, dilation: (1, 1),
            ceil: layer.ceilMode)
        return node("AveragePool", [x], attributes, scope: scope, shape: shape)
    }

    /// (N, C, H, W) to (N, C): GlobalAveragePool, then Flatten.
    public func globalAvgPool(_ x: ONNXValue, scope: String) -> ONNXValue {
        let pooled = node(
            "GlobalAveragePool", [x], scope: scope, shape: [x.shape[0], x.shape[1], .fixed(1), .fixed(1)])
        return node("Flatten", [pooled], [.int("axis", 1)], scope: scope, shape: [x.shape[0], x.shape[1]])
    }

    /// (N, ...) to (N, features).
    public func flatten(_ x: ONNXValue, scope: String) -> ONNXValue {
        let sizes = x.shape.dropFirst().map(\.size)
        let features: ONNXDim = sizes.contains(nil) ? .named("features") : .fixed(sizes.map { $0! }.reduce(1, *))
        return node("Flatten", [x], [.int("axis", 1)], scope: scope, shape: [x.shape[0], features])
    }

    /// The output shape of a pooling window, PyTorch's rule for ceil mode included (a window
    /// must start inside the input or its left padding).
    private func pooled(
        _ x: ONNXValue, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int), ceil: Bool
    ) -> [ONNXDim] {
        func side(_ n: ONNXDim, _ k: Int, _ s: Int, _ p: Int, _ d: Int) -> ONNXDim {
            guard let n = n.size else { return n }
            let span = n + 2 * p - d * (k - 1) - 1
            var out = (ceil ? (span + s - 1) / s : span / s) + 1
            if ceil && (out - 1) * s >= n + p { out -= 1 }
            return .fixed(out)
        }
        return [
            x.shape[0], x.shape[1], side(x.shape[2], kernel.0, stride.0, padding.0, dilation.0),
            side(x.shape[3], kernel.1, stride.1, padding.1, dilation.1),
        ]
    }
}
