/// A config value with a fixed set of names: it decodes from its YAML name, and any other name
/// is a config error that lists the allowed ones.
public protocol ConfigChoice: RawRepresentable, CaseIterable, Codable, Sendable, Equatable, CustomStringConvertible
where RawValue == String {}

extension ConfigChoice {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        self = try Self.named(container.decode(String.self), in: container)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { rawValue }

    /// The YAML names, in the order they are documented.
    public static var names: [String] { allCases.map(\.rawValue) }

    /// The case called `name`, or the decoding error that lists the allowed names.
    static func named(_ name: String, in container: any SingleValueDecodingContainer) throws -> Self {
        guard let value = Self(rawValue: name) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: unknownName(name, allowed: names))
        }
        return value
    }
}

/// What follows "KEY is VALUE; " when VALUE is not one of `allowed`.
func unknownName(_ name: String, allowed: [String]) -> String {
    // A third of the letters may differ: "adamm" suggests adam, "vgg" suggests nothing.
    let suggestion =
        ConfigLoader.closest(name, allowed, maxDistance: name.count / 3).map { " (did you mean \($0)?)" } ?? ""
    return "allowed: \(allowed.joined(separator: ", "))\(suggestion)"
}
