import TensorCore

/// Inverted dropout: zero each element with probability p and scale the rest by 1/(1-p).
///
/// The mask comes from `rng` (Philox, counter-based) and is regenerated on backward, never stored.
/// - Parameters:
///   - x: any shape.
///   - p: the probability of zeroing an element, in [0, 1).
///   - rng: advanced by the number of elements, so consecutive calls draw fresh masks.
///   - training: identity when false.
public func dropout(_ x: Tensor, p: Float, rng: inout PhiloxRNG, training: Bool = true) -> Tensor {
    if !training || p == 0 { return x }
    let seed = rng.seed, offset = rng.advance(x.count)
    return Tensor.record("dropout", Dropout.forward(x.values, p: p, seed: seed, offset: offset), inputs: [x]) { dy in
        [Dropout.backward(dy, p: p, seed: seed, offset: offset)]
    }
}
