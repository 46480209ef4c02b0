import TensorCore

/// Rows of `table` gathered by integer ids; the backward scatter-adds into the table.
/// - Parameters:
///   - table: (V, D).
///   - ids: int32, any shape S, each in [0, V).
/// - Returns: (S..., D).
public func embedding(_ table: Tensor, ids: NDArray) -> Tensor {
    let table = Autocast.input(table)
    let rows = table.shape[0]
    // Rows are gathered in the table's stored type, and a 16-bit gradient is read as it is.
    return Tensor.record("embedding", Embedding.forward(table.data, ids: ids), inputs: [table], halfGradient: true) { dy in
        [Embedding.backward(dy, ids: ids, rows: rows)]
    }
}
