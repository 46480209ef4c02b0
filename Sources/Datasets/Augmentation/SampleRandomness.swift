import TensorCore

/// The random numbers of one sample in one epoch: Philox streams keyed by (seed, epoch, index).
///
/// The key is `m(m(m(seed) ^ epoch) ^ index)`, where `m` is SplitMix64's finaliser
/// (`z += 0x9E3779B97F4A7C15; z = (z ^ z >> 30) * 0xBF58476D1CE4E5B9;
/// z = (z ^ z >> 27) * 0x94D049BB133111EB; z ^ z >> 31`), with epoch and index as 64-bit integers.
/// The draws depend on nothing else, so a sample is augmented alike on any rank, in any batch,
/// for any world size, and a resumed run repeats them exactly. Each transform reads its own
/// Philox stream, so turning one transform on or off leaves the others' draws unchanged.
struct SampleRandomness {
    /// The transforms that draw random numbers, each with its own stream.
    enum Stream: UInt64 {
        case crop = 1, resizedCrop, flip, rotation, colour, erasing
    }

    /// The Philox key of this sample.
    let key: UInt64

    /// - Parameters:
    ///   - seed: the run's seed.
    ///   - epoch: the epoch (0-based).
    ///   - index: the sample's index in the dataset.
    init(seed: UInt64, epoch: Int, index: Int) {
        key = Self.mix(Self.mix(Self.mix(seed) ^ UInt64(bitPattern: Int64(epoch))) ^ UInt64(bitPattern: Int64(index)))
    }

    /// SplitMix64's output function: a bijection of 64-bit words whose outputs for nearby
    /// inputs are uncorrelated.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The numbers one transform draws, in order.
    func stream(_ stream: Stream) -> Draws { Draws(key: key, stream: stream.rawValue) }

    /// Successive random numbers of one Philox stream (counter 0, 1, 2, ...).
    struct Draws {
        let key: UInt64
        let stream: UInt64
        private var counter: UInt64 = 0
        private var words = SIMD4<UInt32>()
        private var used = 4

        init(key: UInt64, stream: UInt64) { (self.key, self.stream) = (key, stream) }

        /// The next 32 random bits.
        mutating func word() -> UInt32 {
            if used == 4 {
                words = PhiloxRNG.block(seed: key, counter: counter, stream: stream)
                counter &+= 1
                used = 0
            }
            used += 1
            return words[used - 1]
        }

        /// A uniform number in [0, 1) with 53 random bits.
        mutating func unit() -> Double {
            let bits = UInt64(word()) << 32 | UInt64(word())
            return Double(bits >> 11) * 0x1p-53
        }

        /// A uniform number in [low, high).
        mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * unit() }

        /// A uniform integer in 0..<bound (the high word of a 64 × 64-bit product; the bias is
        /// below bound / 2^64).
        mutating func integer(below bound: Int) -> Int {
            precondition(bound >= 1, "an integer below \(bound) cannot be drawn")
            let bits = UInt64(word()) << 32 | UInt64(word())
            return Int(bits.multipliedFullWidth(by: UInt64(bound)).high)
        }
    }
}
