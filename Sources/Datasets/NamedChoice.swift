/// A value from a fixed set of names (a config's choice): it decodes from its name, and any
/// other name is a decoding error that lists the allowed ones and suggests the nearest.
public protocol NamedChoice: RawRepresentable, CaseIterable, Codable, Sendable, Equatable where RawValue == String {}

extension NamedChoice {
    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try NameSuggestion.decode(from: decoder, allowed: Self.names))!
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// The names, in the order they are documented.
    public static var names: [String] { allCases.map(\.rawValue) }
}

/// The message for a name outside its set, with the nearest allowed name.
public enum NameSuggestion {
    /// Decodes a name that must be one of `allowed`; any other is a decoding error listing them.
    /// - Parameters:
    ///   - decoder: holds a single string.
    ///   - allowed: the names accepted.
    public static func decode(from decoder: any Decoder, allowed: [String]) throws -> String {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard allowed.contains(name) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: unknown(name, allowed: allowed))
        }
        return name
    }

    /// What follows "KEY is VALUE; " when VALUE is not one of `allowed`.
    public static func unknown(_ name: String, allowed: [String]) -> String {
        // A third of the letters may differ: "adamm" suggests adam, "vgg" suggests nothing.
        let suggestion = closest(name, allowed, maxDistance: name.count / 3).map { " (did you mean \($0)?)" } ?? ""
        return "allowed: \(allowed.joined(separator: ", "))\(suggestion)"
    }

    /// The candidate nearest to `word` by edit distance, if at most `maxDistance`.
    public static func closest(_ word: String, _ candidates: [String], maxDistance: Int) -> String? {
        func distance(_ a: [Character], _ b: [Character]) -> Int {
            var row = Array(0...b.count)
            for i in 1...max(a.count, 1) where !a.isEmpty {
                var previous = row[0]
                row[0] = i
                for j in stride(from: 1, through: b.count, by: 1) {
                    let old = row[j]
                    row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                    previous = old
                }
            }
            return row[b.count]
        }
        let scored = candidates.map { ($0, distance(Array(word), Array($0))) }.filter { $0.1 <= maxDistance }
        return scored.min { $0.1 < $1.1 }?.0
    }
}
