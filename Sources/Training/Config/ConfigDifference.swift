import Yams

/// The keys on which two resolved configs differ, for the message that names them when
/// ranks were started with different configs.
public struct ConfigDifference: Equatable, CustomStringConvertible {
    /// The dotted key path, e.g. `optimizer.lr`.
    public let key: String
    /// The value in each config, as YAML text ("absent" when the key is missing).
    public let first: String, second: String

    public var description: String { "\(key) (\(first) against \(second))" }

    /// Every key whose value differs between the two resolved configs' YAML, in schema order.
    /// - Parameters:
    ///   - first: `ConfigLoader.yaml(_:)` of one config.
    ///   - second: `ConfigLoader.yaml(_:)` of the other.
    public static func between(_ first: String, _ second: String) -> [ConfigDifference] {
        let a = flatten(first), b = flatten(second)
        let bValues = Dictionary(b, uniquingKeysWith: { x, _ in x })
        let aValues = Dictionary(a, uniquingKeysWith: { x, _ in x })
        var out = a.compactMap { key, value -> ConfigDifference? in
            let other = bValues[key] ?? "absent"
            return other == value ? nil : ConfigDifference(key: key, first: value, second: other)
        }
        out += b.filter { aValues[$0.key] == nil }
            .map { ConfigDifference(key: $0.key, first: "absent", second: $0.value) }
        return out
    }

    /// (dotted key, value as one line of YAML) of every leaf.
    static func flatten(_ yaml: String) -> [(key: String, value: String)] {
        guard let root = try? Yams.compose(yaml: yaml) else { return [("(the whole config)", yaml)] }
        func walk(_ node: Node, _ prefix: String) -> [(key: String, value: String)] {
            guard let map = node.mapping else {
                let text = node.scalar?.string ?? ((try? Yams.serialize(node: node)) ?? "\(node)")
                let line = text.trimmingCharacters(in: .whitespacesAndNewlines)
                    .replacingOccurrences(of: "\n", with: " ")
                return [(prefix, line)]
            }
            return map.flatMap { pair in
                let key = pair.key.string ?? ""
                return walk(pair.value, prefix.isEmpty ? key : prefix + "." + key)
            }
        }
        return walk(root, "")
    }
}

import Foundation
