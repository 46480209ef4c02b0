/// `data.normalize`: true, false or auto.
public enum DataNormalization: Codable, Equatable, Sendable, CustomStringConvertible {
    /// Inputs as read.
    case off
    /// The dataset's standardisation (Fashion-MNIST's published statistics; measured elsewhere).
    case on
    /// Per channel, with the mean and deviation measured on the training split.
    case auto

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let flag = try? container.decode(Bool.self) {
            self = flag ? .on : .off
        } else if try container.decode(String.self) == "auto" {
            self = .auto
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "allowed: true, false or auto")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .off: try container.encode(false)
        case .on: try container.encode(true)
        case .auto: try container.encode("auto")
        }
    }

    public var description: String {
        switch self {
        case .off: "false"
        case .on: "true"
        case .auto: "auto"
        }
    }
}
