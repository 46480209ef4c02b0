import Autograd

/// Inverted dropout, active only in training mode.
public final class Dropout: Layer, RandomStreamOwner {
    public var training = true
    public let p: Float
    /// Its own counter-based stream, seeded from the initialisation generator.
    public var rng: PhiloxRNG

    public init(_ p: Float = 0.5) {
        precondition(p >= 0 && p < 1, "Dropout probability must be in [0, 1), got \(p)")
        self.p = p
        rng = PhiloxRNG(seed: UInt64(Init.rng.advance(1)) &* 0x9E37_79B9_7F4A_7C15 ^ Init.rng.seed)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        ShapeTrace.note(self, dropout(x, p: p, rng: &rng, training: training))
    }
}
