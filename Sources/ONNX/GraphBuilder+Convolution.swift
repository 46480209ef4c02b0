import NN

extension GraphBuilder {
    /// A convolution (Conv): weight (OC, C/groups, KH, KW) as ONNX has it; a quantized one in
    /// QDQ form, as `linear` writes it.
    public func conv2d(_ layer: Conv2d, _ x: ONNXValue, scope: String) -> ONNXValue {
        let k = (layer.weight.shape[2], layer.weight.shape[3])
        let attributes: [ONNXAttribute] = [
            .ints("kernel_shape", [k.0, k.1]), .ints("strides", [layer.stride.0, layer.stride.1]),
            .ints("pads", [layer.padding.0, layer.padding.1, layer.padding.0, layer.padding.1]),
            .ints("dilations", [layer.dilation.0, layer.dilation.1]), .int("group", layer.groups),
        ]
        func side(_ n: ONNXDim, _ k: Int, _ s: Int, _ p: Int, _ d: Int) -> ONNXDim {
            n.size.map { .fixed(($0 + 2 * p - d * (k - 1) - 1) / s + 1) } ?? n
        }
        let shape: [ONNXDim] = [
            x.shape[0], .fixed(layer.weight.shape[0]),
            side(x.shape[2], k.0, layer.stride.0, layer.padding.0, layer.dilation.0),
            side(x.shape[3], k.1, layer.stride.1, layer.padding.1, layer.dilation.1),
        ]
        let int8 = layer.int8?.weights
        let input = int8.map { quantizedInput(x, $0, scope: scope) } ?? x
        let w = weight(of: layer.weight, int8: int8, scope: scope)
        let inputs = [input, w] + (layer.bias.map { [parameter($0)] } ?? [])
        return node("Conv", inputs, attributes, scope: scope, shape: shape)
    }

    /// A transposed convolution (ConvTranspose): weight (C, OC/groups, KH, KW) as ONNX has it.
    public func convTranspose2d(_ layer: ConvTranspose2d, _ x: ONNXValue, scope: String) -> ONNXValue {
        let k = (layer.weight.shape[2], layer.weight.shape[3])
        let attributes: [ONNXAttribute] = [
            .ints("kernel_shape", [k.0, k.1]), .ints("strides", [layer.stride.0, layer.stride.1]),
            .ints("pads", [layer.padding.0, layer.padding.1, layer.padding.0, layer.padding.1]),
            .ints("output_padding", [layer.outputPadding.0, layer.outputPadding.1]),
            .ints("dilations", [layer.dilation.0, layer.dilation.1]), .int("group", layer.groups),
        ]
        func side(_ n: ONNXDim, _ k: Int, _ s: Int, _ p: Int, _ op: Int, _ d: Int) -> ONNXDim {
            n.size.map { .fixed(($0 - 1) * s - 2 * p + d * (k - 1) + op + 1) } ?? n
        }
        let shape: [ONNXDim] = [
            x.shape[0], .fixed(layer.weight.shape[1] * layer.groups),
            side(x.shape[2], k.0, layer.stride.0, layer.padding.0, layer.outputPadding.0, layer.dilation.0),
            side(x.shape[3], k.1, layer.stride.1, layer.padding.1, layer.outputPadding.1, layer.dilation.1),
        ]
        let inputs = [x, weight(of: layer.weight)] + (layer.bias.map { [parameter($0)] } ?? [])
        return node("ConvTranspose", inputs, attributes, scope: scope, shape: shape)
    }
}
