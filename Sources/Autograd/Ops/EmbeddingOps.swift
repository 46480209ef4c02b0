import TensorCore

/// Rows of `table` gathered by integer ids; the backward scatter-adds into the table.
/// - Parameters:
///   - table: (V, D).
///   - ids: int32, any shape S, each in [0, V).
/// - Returns: (S..., D).
public func embedding(_ table: Tensor, ids: NDArray) -> Tensor {
    let table = Autocast.input(table)
    let rows = table.shape[0]
    return Tensor.record("embedding", Embedding.forward(table.values, ids: ids), inputs: [table]) { dy in
        [Embedding.backward(dy, ids: ids, rows: rows)]
    }
}
