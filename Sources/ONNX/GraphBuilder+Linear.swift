import NN

extension GraphBuilder {
    /// A linear layer: Gemm on a batch of vectors (N, in), MatMul by Wᵀ then Add on (..., in).
    ///
    /// The weight goes through `weight(of:)`, the one place a quantized form would put its
    /// DequantizeLinear.
    public func linear(_ layer: Linear, _ x: ONNXValue, scope: String) -> ONNXValue {
        let out = layer.weight.shape[0]
        let w = weight(of: layer.weight)
        let shape = Array(x.shape.dropLast()) + [.fixed(out)]
        if x.rank == 2 {
            let inputs = [x, w] + (layer.bias.map { [parameter($0)] } ?? [])
            return node("Gemm", inputs, [.int("transB", 1)], scope: scope, shape: shape)
        }
        let transposed = transpose(w, [1, 0], scope: scope)
        let product = node("MatMul", [x, transposed], scope: scope, shape: shape)
        return layer.bias.map { add(product, parameter($0), scope: scope) } ?? product
    }

    /// The value a linear or convolution layer multiplies by: its float weight.
    public func weight(of t: Tensor) -> ONNXValue { parameter(t) }
}
