/// `model.layers`: a count of stacked layers (rnn, lstm, gru, gpt, vit, transformer), or for
/// `model.name: sequential` the list of layers that make the model.
public enum ModelLayers: Codable, Equatable, Sendable {
    case count(Int)
    case list([LayerValue])

    public init(from decoder: any Decoder) throws {
        if let n = try? decoder.singleValueContainer().decode(Int.self) {
            self = .count(n)
            return
        }
        if let items = try? decoder.singleValueContainer().decode([LayerValue].self) {
            self = .list(items)
            return
        }
        throw DecodingError.dataCorruptedError(
            in: try decoder.singleValueContainer(),
            debugDescription: "allowed: a positive count, or for model.name sequential a list of layers")
    }

    public func encode(to encoder: any Encoder) throws {
        var single = encoder.singleValueContainer()
        switch self {
        case .count(let n): try single.encode(n)
        case .list(let items): try single.encode(items)
        }
    }
}
