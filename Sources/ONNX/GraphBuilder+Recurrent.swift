import NN

extension GraphBuilder {
    /// A stack of recurrent layers as ONNX's RNN, LSTM or GRU operators, one per layer.
    ///
    /// ONNX runs time-major (T, B, I) and orders the gates differently: LSTM i, o, f, c where
    /// PyTorch (and Tandem) have i, f, g, o; GRU z, r, h where PyTorch has r, z, n, with the
    /// reset gate applied after the hidden projection (linear_before_reset = 1). The weights
    /// stay initializers under their own names; the reordering is Split and Concat nodes on them.
    /// A quantized input projection runs before the operator in QDQ form (see `quantizedInput`).
    /// - Parameters:
    ///   - recurrent: the stack.
    ///   - x: (B, T, I).
    ///   - scope: the stack's dotted name.
    /// - Returns: the last layer's outputs (B, T, H) and its final hidden state (B, H).
    public func recurrent(_ recurrent: Recurrent, _ x: ONNXValue, scope: String) throws -> (
        sequence: ONNXValue, final: ONNXValue
    ) {
        let (op, order): (String, [Int]) =
            switch recurrent.kind {
            case .rnn: ("RNN", [0])
            case .lstm: ("LSTM", [0, 3, 1, 2])
            case .gru: ("GRU", [1, 0, 2])
            }
        let (b, t) = (x.shape[0], x.shape[1])
        var input = transpose(x, [1, 0, 2], scope: scope)  // (T, B, I)
        var final = input
        for (l, cell) in recurrent.layers.enumerated() {
            let s = "\(scope).layers.\(l)", h = cell.hiddenSize
            func gates(_ p: ONNXValue) -> ONNXValue {
                guard order.count > 1 else { return p }
                let parts = split(p, parts: order.count, size: h, axis: 0, scope: s)
                return concat(order.map { parts[$0] }, axis: 0, scope: s)
            }
            let (weightHH, biasHH) = try Self.hiddenParameters(cell, scope: s)
            let int8 = recurrent.int8Projections[l]?.weights, g = order.count * h
            let w: ONNXValue
            if let int8 {
                // The operator cannot quantize its own input product, so the QDQ projection runs
                // before it and the operator multiplies by the identity, which is exact.
                let p = s + ".input"
                let weight = transpose(gates(dequantizedWeight(int8, of: cell.weightIH, scope: p)), [1, 0], scope: p)
                let product = node(
                    "MatMul", [quantizedInput(input, int8, scope: p), weight], scope: p, shape: [t, b, .fixed(g)])
                input = add(product, gates(parameter(cell.biasIH)), scope: p)
                let identity = (0..<g * g).map { Float($0 / g == $0 % g ? 1 : 0) }
                w = constant(identity, shape: [1, g, g], name: p + ".identity")
            } else {
                w = unsqueeze(gates(parameter(cell.weightIH)), axis: 0, scope: s)
            }
            let r = unsqueeze(gates(parameter(weightHH)), axis: 0, scope: s)
            let inputBias =
                int8 == nil ? gates(parameter(cell.biasIH)) : constant([Float](repeating: 0, count: g), shape: [g])
            let bias = concat([inputBias, gates(parameter(biasHH))], axis: 0, scope: s)
            var attributes: [ONNXAttribute] = [.int("hidden_size", h)]
            if recurrent.kind == .gru { attributes.append(.int("linear_before_reset", 1)) }
            let outputs = nodes(
                op, [input, w, r, unsqueeze(bias, axis: 0, scope: s)], attributes, scope: s,
                shapes: [[t, .fixed(1), b, .fixed(h)], [.fixed(1), b, .fixed(h)]])
            input = squeeze(outputs[0], axes: [1], scope: s)  // (T, B, H)
            final = squeeze(outputs[1], axes: [0], scope: s)  // (B, H)
        }
        return (transpose(input, [1, 0, 2], scope: scope), final)
    }

    /// W_hh and b_hh of a cell (the protocol exposes only the input side).
    static func hiddenParameters(_ cell: any RecurrentCell, scope: String) throws -> (Tensor, Tensor) {
        switch cell {
        case let c as LSTMCell: return (c.weightHH, c.biasHH)
        case let c as GRUCell: return (c.weightHH, c.biasHH)
        case let c as RNNCell: return (c.weightHH, c.biasHH)
        default: throw ONNXExportError.unsupported(cell, at: scope)
        }
    }
}
