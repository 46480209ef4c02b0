import Foundation
import Testing
@testable import Training

/// docs/CONFIG.md documents every key the schema knows, with its default.
@Suite("The config reference")
struct ConfigDocTests {
    @Test func everyKeyIsDocumented() throws {
        let doc = try String(
            contentsOfFile: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../../docs/CONFIG.md").standardized.path, encoding: .utf8)
        let template = try ConfigLoader.encode(TrainConfig.schemaTemplate)
        func keys(_ node: Node, _ prefix: String) -> [String] {
            guard let map = node.mapping else { return [prefix] }
            return map.flatMap { keys($0.value, prefix.isEmpty ? $0.key.string! : prefix + "." + $0.key.string!) }
        }
        let all = keys(template, "")
        #expect(all.count > 60)
        for key in all { #expect(doc.contains("| `\(key)` |"), "docs/CONFIG.md lacks \(key)") }
        // The default column agrees with TrainConfig() for every key that has a scalar or list default.
        let defaults = try Yams.compose(yaml: ConfigLoader.yaml(TrainConfig()))!
        func same(_ a: Node, _ b: Node) -> Bool {
            if let x = a.sequence, let y = b.sequence {
                return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
            }
            if let x = a.float, let y = b.float { return x == y }
            return a.string == b.string
        }
        for key in all {
            guard let row = doc.split(separator: "\n").first(where: { $0.hasPrefix("| `\(key)` |") }) else { continue }
            let cell = row.split(separator: "|")[1].trimmingCharacters(in: .whitespaces).trimmingCharacters(
                in: CharacterSet(charactersIn: "`"))
            var node: Node? = defaults
            for part in key.split(separator: ".") { node = node?.mapping?[String(part)] }
            guard let value = node, value.mapping == nil else { continue }
            let documented = try Yams.compose(yaml: cell)!
            #expect(same(documented, value), "docs/CONFIG.md gives \(key) the default \(cell); the code has \(value)")
        }
    }
}

import Yams
