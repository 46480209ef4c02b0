import TensorCore

/// The LSTM recurrence over a whole sequence as one op (see `LSTMSequence`).
/// - Parameters:
///   - projected: x_t·W_ihᵀ + b_ih for every step, (B, T, 4H).
///   - weightHH: (4H, H).
///   - biasHH: (4H).
///   - h0: the initial hidden state (B, H).
///   - c0: the initial cell state (B, H).
/// - Returns: (B, T, 2H): [h_t ‖ c_t] at every step, in `projected`'s type (16 bits under
///   autocast; the recurrence itself runs in fp32).
public func lstmSequence(projected: Tensor, weightHH: Tensor, biasHH: Tensor, h0: Tensor, c0: Tensor) -> Tensor {
    let (w, c) = (weightHH.values, c0.values)
    let (states, saved) = LSTMSequence.forward(
        projected: projected.data, weightHH: w, biasHH: biasHH.values, h0: h0.values, c0: c)
    return Tensor.record("lstm_sequence", states, inputs: [projected, weightHH, biasHH, h0, c0], halfGradient: true) {
        dy in
        // A released graph never reads `saved` again: the gate gradients may overwrite it.
        let d = LSTMSequence.backward(
            dy, saved: saved, states: states, weightHH: w, c0: c,
            overwritingSaved: GraphRelease.isReleasing)
        return [d.projected, d.weightHH, d.biasHH, d.h0, d.c0]
    }
}
