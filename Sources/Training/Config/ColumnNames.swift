/// `data.target`: one column name, or a list of them.
public struct ColumnNames: Codable, Equatable, Sendable, ExpressibleByArrayLiteral {
    public var names: [String]

    public init(arrayLiteral names: String...) { self.names = names }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let one = try? container.decode(String.self) {
            names = [one]
        } else {
            names = try container.decode([String].self)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if names.count == 1 { try container.encode(names[0]) } else { try container.encode(names) }
    }
}
