import TensorCore

/// Rows of `table` gathered by integer ids; the backward scatter-adds into the table.
/// - Parameters:
///   - table: (V, D).
///   - ids: int32, any shape S, each in [0, V).
/// - Returns: (S..., D).
public func embedding(_ table: Tensor, ids: NDArray) -> Tensor {
    let (table, rounding) = Autocast.roundedInput(table)
    let rows = table.shape[0]
    // Rows are gathered in the table's stored type (an fp32 leaf's rounded under autocast), and
    // a 16-bit gradient is read as it is.
    let out = Embedding.forward(table.data, ids: ids, rounding: rounding)
    return Tensor.record("embedding", out, inputs: [table], halfGradient: true) { dy in
        [Embedding.backward(dy, ids: ids, rows: rows, adding: table.gradientBuffer)]
    }
}
