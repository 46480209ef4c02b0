/// A YAML value kept as written (scalar, list or mapping in its order), for the entries of
/// `model.layers`, whose keys depend on each layer's kind and are checked when the model is
/// planned rather than by the config schema.
public indirect enum LayerValue: Codable, Equatable, Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([LayerValue])
    case mapping([Entry])

    /// One key of a mapping with its value.
    public struct Entry: Equatable, Sendable {
        public var key: String
        public var value: LayerValue
        public init(_ key: String, _ value: LayerValue) { (self.key, self.value) = (key, value) }
    }

    struct Key: CodingKey {
        let stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        if let keyed = try? decoder.container(keyedBy: Key.self) {
            self = .mapping(
                try keyed.allKeys.map { Entry($0.stringValue, try keyed.decode(LayerValue.self, forKey: $0)) })
            return
        }
        if var list = try? decoder.unkeyedContainer() {
            var items: [LayerValue] = []
            while !list.isAtEnd { items.append(try list.decode(LayerValue.self)) }
            self = .list(items)
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() {
            self = .null
        } else if let b = try? single.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? single.decode(Int.self) {
            self = .int(i)
        } else if let d = try? single.decode(Double.self) {
            self = .double(d)
        } else {
            self = .string(try single.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .mapping(let entries):
            var keyed = encoder.container(keyedBy: Key.self)
            for e in entries { try keyed.encode(e.value, forKey: Key(stringValue: e.key)) }
        case .list(let items):
            var list = encoder.unkeyedContainer()
            for item in items { try list.encode(item) }
        default:
            var single = encoder.singleValueContainer()
            switch self {
            case .null: try single.encodeNil()
            case .bool(let b): try single.encode(b)
            case .int(let i): try single.encode(i)
            case .double(let d): try single.encode(d)
            case .string(let s): try single.encode(s)
            case .list, .mapping: break
            }
        }
    }

    /// The value as YAML flow text, for messages.
    public var description: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return "\(b)"
        case .int(let i): return "\(i)"
        case .double(let d): return "\(d)"
        case .string(let s): return s
        case .list(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .mapping(let entries): return "{" + entries.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
        }
    }
}
