import Datasets

/// `model.name`: one of the models in `ModelRegistry`; any other name is a config error that
/// lists them.
public struct ModelName: Codable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    /// The registered model called `rawValue`, or nil.
    public init?(rawValue: String) {
        guard ModelRegistry.entries.contains(where: { $0.name == rawValue }) else { return nil }
        self.rawValue = rawValue
    }

    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try NameSuggestion.decode(from: decoder, allowed: ModelRegistry.names))!
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { rawValue }

    /// Its registry entry.
    public var entry: ModelEntry { ModelRegistry.entries.first { $0.name == rawValue }! }
}
