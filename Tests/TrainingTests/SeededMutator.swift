/// Turns a seed input into damaged variants, reproducibly: bit flips, interesting integers
/// written at the format's size fields, dictionary tokens, cuts, duplications and splices.
struct SeededMutator {
    private var state: UInt64
    /// Byte sequences that mean something to the format (numbers, brackets, keywords).
    let dictionary: [[UInt8]]
    /// Offsets of the fields that size what follows (headers' lengths and counts).
    let hotspots: [Int]

    /// - Parameters:
    ///   - seed: the stream; the same seed gives the same mutations.
    ///   - dictionary: tokens spliced into inputs.
    ///   - hotspots: offsets mutated more often than the rest.
    init(seed: UInt64, dictionary: [String] = [], hotspots: [Int] = []) {
        state = seed
        self.dictionary = dictionary.map { Array($0.utf8) }
        self.hotspots = hotspots
    }

    /// SplitMix64.
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }

    /// Integers that break size arithmetic: zero, one, the sign bit, all ones, near the limits.
    static let interesting: [UInt64] = [
        0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0xffff, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff,
        0x7fff_ffff_ffff_ffff, 0x8000_0000_0000_0000, 0xffff_ffff_ffff_ffff, 1 << 40,
    ]

    /// One to four mutations of `input`.
    mutating func mutate(_ input: [UInt8]) -> [UInt8] {
        var out = input
        for _ in 0...below(4) { out = mutateOnce(out) }
        return out
    }

    private mutating func position(in bytes: [UInt8]) -> Int {
        if !hotspots.isEmpty && below(2) == 0 { return min(hotspots[below(hotspots.count)], max(bytes.count - 1, 0)) }
        return below(bytes.count)
    }

    private mutating func mutateOnce(_ input: [UInt8]) -> [UInt8] {
        var out = input
        guard !out.isEmpty else {
            return dictionary.isEmpty ? [UInt8(truncatingIfNeeded: next())] : dictionary[below(dictionary.count)]
        }
        let at = position(in: out)
        switch below(8) {
        case 0:  // flip a bit
            out[at] ^= 1 << UInt8(below(8))
        case 1:  // an interesting integer, 1, 2, 4 or 8 bytes, either byte order
            let width = [1, 2, 4, 8][below(4)], value = Self.interesting[below(Self.interesting.count)]
            let bigEndian = below(2) == 0
            for i in 0..<width where at + i < out.count {
                let shift = UInt64(8 * (bigEndian ? width - 1 - i : i))
                out[at + i] = UInt8(truncatingIfNeeded: value >> shift)
            }
        case 2:  // overwrite with a dictionary token
            guard !dictionary.isEmpty else { fallthrough }
            let token = dictionary[below(dictionary.count)]
            for (i, b) in token.enumerated() where at + i < out.count { out[at + i] = b }
        case 3:  // insert a dictionary token
            guard !dictionary.isEmpty else { fallthrough }
            out.insert(contentsOf: dictionary[below(dictionary.count)], at: at)
        case 4:  // cut the end
            out.removeSubrange(below(out.count)...)
        case 5:  // delete a range
            out.removeSubrange(at..<min(out.count, at + 1 + below(16)))
        case 6:  // duplicate a range
            let end = min(out.count, at + 1 + below(64))
            out.insert(contentsOf: out[at..<end], at: below(out.count))
        default:  // a random byte
            out[at] = UInt8(truncatingIfNeeded: next())
        }
        return out
    }
}
