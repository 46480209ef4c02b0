import NN

extension GraphBuilder {
    /// Batch norm with its running statistics (BatchNormalization in inference mode).
    public func batchNorm(_ layer: BatchNorm, _ x: ONNXValue, scope: String) -> ONNXValue {
        let c = layer.runningMean.value.count
        let scale = layer.weight.map(parameter) ?? constant(Array(repeating: 1, count: c), shape: [c])
        let shift = layer.bias.map(parameter) ?? constant(Array(repeating: 0, count: c), shape: [c])
        let inputs = [x, scale, shift, buffer(layer.runningMean), buffer(layer.runningVar)]
        return node("BatchNormalization", inputs, [.float("epsilon", layer.eps)], scope: scope, shape: x.shape)
    }

    /// Layer norm over the last axis (LayerNormalization, opset 17).
    public func layerNorm(_ layer: LayerNorm, _ x: ONNXValue, scope: String) -> ONNXValue {
        let c = x.shape[x.rank - 1].size ?? layer.weight?.count ?? 1
        let scale = layer.weight.map(parameter) ?? constant(Array(repeating: 1, count: c), shape: [c])
        let inputs = [x, scale] + (layer.bias.map { [parameter($0)] } ?? [])
        let attributes: [ONNXAttribute] = [.int("axis", -1), .float("epsilon", layer.eps)]
        return node("LayerNormalization", inputs, attributes, scope: scope, shape: x.shape)
    }
}
