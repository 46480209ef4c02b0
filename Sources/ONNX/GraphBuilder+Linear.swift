import NN

extension GraphBuilder {
    /// A linear layer: Gemm on a batch of vectors (N, in), MatMul by Wᵀ then Add on (..., in).
    ///
    /// A quantized layer (`layer.int8` holding int8 weights) is written in QDQ form: its input
    /// through `quantizedInput` and its weight through DequantizeLinear.
    public func linear(_ layer: Linear, _ x: ONNXValue, scope: String) -> ONNXValue {
        let out = layer.weight.shape[0]
        let int8 = layer.int8?.weights
        let x = int8.map { quantizedInput(x, $0, scope: scope) } ?? x
        let w = weight(of: layer.weight, int8: int8, scope: scope)
        let shape = Array(x.shape.dropLast()) + [.fixed(out)]
        if x.rank == 2 {
            let inputs = [x, w] + (layer.bias.map { [parameter($0)] } ?? [])
            return node("Gemm", inputs, [.int("transB", 1)], scope: scope, shape: shape)
        }
        let transposed = transpose(w, [1, 0], scope: scope)
        let product = node("MatMul", [x, transposed], scope: scope, shape: shape)
        return layer.bias.map { add(product, parameter($0), scope: scope) } ?? product
    }

    /// The value a linear or convolution layer multiplies by: its float weight, or its int8
    /// weight through DequantizeLinear.
    /// - Parameters:
    ///   - t: the fp32 weight.
    ///   - int8: the layer's int8 numbers, if it is quantized.
    ///   - scope: the layer's dotted name.
    public func weight(of t: Tensor, int8: Int8Weights? = nil, scope: String = "") -> ONNXValue {
        int8.map { dequantizedWeight($0, of: t, scope: scope) } ?? parameter(t)
    }
}
