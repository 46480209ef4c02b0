/// A configuration that cannot run: every problem found, each naming the key path, the value
/// and what is allowed.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let problems: [String]
    public init(_ problems: [String]) { self.problems = problems }
    public init(_ problem: String) { self.problems = [problem] }

    public var description: String {
        problems.count == 1
            ? "config error: \(problems[0])"
            : "config errors:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}

/// Collects range and choice errors while a config validates itself.
public struct ConfigValidator {
    public private(set) var problems: [String] = []

    /// Records a problem unless `condition` holds.
    /// - Parameters:
    ///   - condition: true when the value is acceptable.
    ///   - path: the dotted key path, e.g. `optimizer.lr`.
    ///   - value: what the config holds.
    ///   - allowed: what would be accepted.
    public mutating func require(_ condition: Bool, _ path: String, _ value: Any?, _ allowed: String) {
        if !condition { problems.append("\(path) is \(Self.show(value)); allowed: \(allowed)") }
    }

    /// Records a free-form problem.
    public mutating func fail(_ problem: String) { problems.append(problem) }

    static func show(_ value: Any?) -> String {
        // Optional fields arrive wrapped twice; show the value, not "Optional(...)".
        if let v = value, Mirror(reflecting: v).displayStyle == .optional {
            return show(Mirror(reflecting: v).children.first?.value)
        }
        switch value {
        case nil: return "null"
        case let s as String: return "\"\(s)\""
        case let c as any ConfigChoice: return "\"\(c.rawValue)\""
        case let m as ModelName: return "\"\(m.rawValue)\""
        case let .some(v): return "\(v)"
        }
    }
}
