import Datasets
import Foundation
import Yams

/// Reads a YAML config, applies `--set key=value` overrides, fills in defaults, and checks
/// keys, types and values, reporting each problem with its key path.
///
/// The file is merged onto the encoded defaults as a YAML tree before it is decoded, so a
/// file may leave out any key; keys are checked against the encoded schema template, so an
/// unknown key (a typo) is an error rather than silently ignored.
public enum ConfigLoader {
    /// The first line of a run's config.yaml when the run trained a model built in code.
    static let customModelMarker = "# tandem: a model built in code: "

    /// Loads `path` with `overrides` (each `a.b.c=value`, the value parsed as YAML).
    /// - Parameters:
    ///   - path: the YAML file.
    ///   - overrides: `a.b=c` assignments applied on top of the file.
    ///   - customModel: the model is built in code: `model.name` and the checks that depend on the
    ///     model are left to the trainer, which has it.
    public static func load(path: String, overrides: [String] = [], customModel: Bool = false) throws -> TrainConfig {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw ConfigError("config file \(path) is a directory; give the YAML file (e.g. configs/mlp_fmnist.yaml)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError("cannot read config file \(path): it is missing or unreadable")
        }
        let yaml = try text(of: [UInt8](data), source: path)
        if !customModel, yaml.hasPrefix(customModelMarker) {
            let name = yaml.dropFirst(customModelMarker.count).prefix { $0 != "\n" }
            throw ConfigError(
                "\(path) is the config of a run whose model, \(name), was built in code by a program: tandem "
                    + "cannot rebuild it; resume or evaluate the run with that program (TrainingJob, resume: .auto)")
        }
        return try parse(yaml: yaml, source: path, overrides: overrides, customModel: customModel)
    }

    /// The file's text, or an error when it is not text: a binary file must not be echoed
    /// to the terminal in a YAML parser's message.
    /// - Parameters:
    ///   - bytes: the file's contents.
    ///   - source: the file name, for messages.
    static func text(of bytes: [UInt8], source: String) throws -> String {
        let notText = "config file \(source) is not a YAML text file"
        let fix = "give the .yaml config (configs/*.yaml), not a binary"
        if let nul = bytes.firstIndex(of: 0) {
            throw ConfigError("\(notText) (it holds a NUL byte at offset \(nul)); \(fix)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigError("\(notText) (its bytes are not UTF-8); \(fix)")
        }
        // Control characters other than tab, newline and carriage return never occur in YAML.
        let isControl = { (c: Unicode.Scalar) in (c.value < 0x20 && ![9, 10, 13].contains(c.value)) || c.value == 0x7f }
        if let i = text.unicodeScalars.firstIndex(where: isControl) {
            let offset = text.unicodeScalars[..<i].reduce(0) { $0 + String($1).utf8.count }
            let code = text.unicodeScalars[i].value
            throw ConfigError("\(notText) (it holds control character \(code) at offset \(offset)); \(fix)")
        }
        return text
    }

    /// Parses config text, reporting every problem found (unknown keys, wrong types and
    /// values out of range) at once.
    /// - Parameters:
    ///   - yaml: the file's contents.
    ///   - source: the file name, for messages.
    ///   - overrides: `a.b=c` assignments applied on top of the file.
    ///   - customModel: the model is built in code (see `load(path:overrides:customModel:)`).
    public static func parse(
        yaml: String, source: String = "config", overrides: [String] = [], customModel: Bool = false
    ) throws -> TrainConfig {
        var user: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                guard !overrides.isEmpty else {
                    throw ConfigError(
                        "\(source) is empty: a config needs at least a learning rate "
                            + "(sgd has no default), e.g. `optimizer: {lr: 0.05}`; configs/*.yaml are complete examples"
                    )
                }
                return try parse(yaml: "{}", source: source, overrides: overrides, customModel: customModel)
            }
            user = node
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError("\(source) is not valid YAML: \(error)")
        }
        guard user.mapping != nil else {
            throw ConfigError("\(source) must be a mapping of sections (model:, data:, ...), not a \(kind(user))")
        }
        for assignment in overrides { user = try apply(assignment, to: user) }
        let defaults = try encode(TrainConfig()), template = try encode(TrainConfig.schemaTemplate)
        var problems: [String] = []
        var merged = merge(user, onto: defaults, template: template, path: [], problems: &problems)
        // A wrong type stops the decoder at the first; put the default in its place and decode
        // again, so that every wrong type and every bad value is reported together.
        var badPaths: [String] = []
        var decoded: TrainConfig?
        for _ in 0..<256 {
            do {
                decoded = try YAMLDecoder().decode(TrainConfig.self, from: Yams.serialize(node: merged))
                break
            } catch let error as DecodingError {
                problems.append(describe(error, in: merged))
                let keys = keyPath(of: error)
                guard !keys.isEmpty, !badPaths.contains(keys.joined(separator: ".")) else { break }
                badPaths.append(keys.joined(separator: "."))
                // A key of an optional section has no default there; the schema's template holds one.
                merged = replacing(
                    merged, at: keys, with: node(at: keys, in: defaults) ?? node(at: keys, in: template))
            }
        }
        if let config = decoded {
            // A key already reported with a wrong type holds its default now: do not judge it again.
            problems += config.problems(customModel: customModel ? ("the model", nil) : nil).filter { p in
                !badPaths.contains { p.hasPrefix($0 + " ") || p.hasPrefix($0 + "[") }
            }
            if problems.isEmpty { return config }
        }
        throw ConfigError(problems)
    }

    /// The mapping keys of a decoding error's path, up to the first list index.
    static func keyPath(of error: DecodingError) -> [String] {
        let path: [CodingKey]
        switch error {
        case let .typeMismatch(_, c), let .valueNotFound(_, c), let .dataCorrupted(c): path = c.codingPath
        case let .keyNotFound(key, c): path = c.codingPath + [key]
        @unknown default: path = []
        }
        return Array(path.prefix { $0.intValue == nil }.map(\.stringValue))
    }

    /// The value at the dotted path `keys` of `root`, or nil when a key on the way is absent.
    static func node(at keys: [String], in root: Node) -> Node? {
        keys.reduce(Optional(root)) { $0?.mapping?[$1] }
    }

    /// `root` with the value at `keys` replaced (removed when `value` is nil).
    static func replacing(_ root: Node, at keys: [String], with value: Node?) -> Node {
        guard let key = keys.first, let map = root.mapping else { return value ?? root }
        var pairs = Array(map)
        guard let i = pairs.firstIndex(where: { $0.key.string == key }) else { return root }
        if keys.count == 1, value == nil {
            pairs.remove(at: i)
        } else {
            pairs[i].value = replacing(pairs[i].value, at: Array(keys.dropFirst()), with: value)
        }
        return .mapping(Node.Mapping(pairs.map { ($0.key, $0.value) }))
    }

    /// The resolved config as YAML: every key present (null where unset), in schema order,
    /// numbers in plain decimal form.
    public static func yaml(_ config: TrainConfig) throws -> String {
        func fill(_ value: Node?, _ template: Node) -> Node {
            guard let templateMap = template.mapping else {
                guard let value else { return Node("null", Tag(.null)) }
                if value.tag == Tag(.float), let d = value.float { return Node("\(d)", Tag(.float)) }
                if let items = value.sequence {
                    return .sequence(.init(items.map { fill($0, $0) }, items.tag, items.style))
                }
                return value
            }
            guard let value, value.mapping != nil else { return Node("null", Tag(.null)) }
            return .mapping(Node.Mapping(templateMap.map { ($0.key, fill(value.mapping?[$0.key], $0.value)) }))
        }
        return try Yams.serialize(node: fill(encode(config), encode(TrainConfig.schemaTemplate)))
    }

    /// A digest of the resolved config that ranks compare before training (FNV-1a, 64 bits).
    public static func hash(_ config: TrainConfig) -> String {
        let text = (try? yaml(config)) ?? "\(config)"
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return String(h, radix: 16)
    }

    static func encode(_ config: TrainConfig) throws -> Node {
        try Yams.compose(yaml: YAMLEncoder().encode(config))!
    }

    /// Sets `a.b.c=value` in the user tree, creating mappings on the way.
    static func apply(_ assignment: String, to root: Node) throws -> Node {
        guard let eq = assignment.firstIndex(of: "="), eq != assignment.startIndex else {
            throw ConfigError("--set \(assignment) is not of the form key.path=value (e.g. --set optimizer.lr=0.05)")
        }
        let path = assignment[..<eq].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard path.allSatisfy({ !$0.isEmpty }) else {
            throw ConfigError("--set \(assignment): the key path has an empty part")
        }
        let text = String(assignment[assignment.index(after: eq)...])
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ConfigError(
                "--set \(assignment) has no value; "
                    + "write --set \(assignment)VALUE (or \(assignment)null to unset the key)")
        }
        let value: Node
        do { value = try Yams.compose(yaml: text) ?? Node("null", .init(.null)) } catch {
            throw ConfigError("--set \(assignment): the value is not valid YAML: \(error)")
        }
        func set(_ node: Node?, _ rest: ArraySlice<String>) throws -> Node {
            guard let key = rest.first else { return value }
            var pairs: [(key: Node, value: Node)] = node?.mapping.map { Array($0) } ?? []
            if let node, node.mapping == nil {
                throw ConfigError(
                    "--set \(assignment): \(path.prefix(path.count - rest.count).joined(separator: ".")) is a \(kind(node)), not a section"
                )
            }
            if let i = pairs.firstIndex(where: { $0.key.string == key }) {
                pairs[i].value = try set(pairs[i].value, rest.dropFirst())
            } else {
                pairs.append((Node(key), try set(nil, rest.dropFirst())))
            }
            return .mapping(Node.Mapping(pairs.map { ($0.key, $0.value) }))
        }
        return try set(root, path[...])
    }

    /// The user's tree laid over the defaults; keys the template lacks are reported.
    static func merge(_ user: Node, onto defaults: Node?, template: Node, path: [String], problems: inout [String])
        -> Node
    {
        guard let userMap = user.mapping, let templateMap = template.mapping else { return user }
        var pairs: [(key: Node, value: Node)] = defaults?.mapping.map { Array($0) } ?? []
        for (key, value) in userMap {
            let name = key.string ?? "\(key)"
            let here = (path + [name]).joined(separator: ".")
            guard let allowedValue = templateMap[name] else {
                let allowed = templateMap.keys.compactMap(\.string).sorted().joined(separator: ", ")
                let suggestion =
                    closest(name, templateMap.keys.compactMap(\.string)).map { " (did you mean \($0)?)" } ?? ""
                problems.append(
                    "unknown key \(here)\(suggestion); allowed keys\(path.isEmpty ? "" : " in \(path.joined(separator: "."))"): \(allowed)"
                )
                continue
            }
            let base = defaults?.mapping?[name]
            let mergedValue: Node
            if allowedValue.mapping != nil {
                guard value.mapping != nil || value.tag == Tag(.null) || value.string == "null" else {
                    problems.append("\(here) is \(kind(value)) \(display(value)); allowed: a mapping of its keys")
                    continue
                }
                mergedValue =
                    value.mapping == nil
                    ? value
                    : merge(
                        value, onto: base?.mapping != nil ? base : allowedValue, template: allowedValue,
                        path: path + [name], problems: &problems)
            } else {
                mergedValue = value
            }
            if let i = pairs.firstIndex(where: { $0.key.string == name }) {
                pairs[i].value = mergedValue
            } else {
                pairs.append((Node(name), mergedValue))
            }
        }
        return .mapping(Node.Mapping(pairs.map { ($0.key, $0.value) }))
    }

    /// A message for a decoding failure: the key path, what was expected and what was found.
    static func describe(_ error: DecodingError, in root: Node) -> String {
        func pathText(_ path: [CodingKey]) -> String {
            path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(
                of: ".[", with: "[")
        }
        func found(_ path: [CodingKey]) -> String {
            var node: Node? = root
            for key in path {
                node =
                    key.intValue.map { i in node?.sequence.flatMap { i < $0.count ? $0[i] : nil } }
                    ?? node?.mapping?[key.stringValue]
            }
            return node.map(display) ?? "nothing"
        }
        switch error {
        case let .typeMismatch(type, context), let .valueNotFound(type, context):
            return "\(pathText(context.codingPath)) is \(found(context.codingPath)); allowed: \(expected(type))"
        case let .dataCorrupted(context):
            return "\(pathText(context.codingPath)) is \(found(context.codingPath)); \(context.debugDescription)"
        case let .keyNotFound(key, context):
            return "\(pathText(context.codingPath + [key])) is missing"
        @unknown default:
            return "\(error)"
        }
    }

    static func expected(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type, is Int?.Type: return "an integer"
        case is Double.Type, is Double?.Type: return "a number"
        case is Bool.Type: return "true or false"
        case is String.Type: return "a string"
        case is [Int].Type: return "a list of integers"
        case is [Double].Type: return "a list of numbers"
        default: return "a value of type \(type)"
        }
    }

    static func kind(_ node: Node) -> String {
        switch node {
        case .mapping: return "mapping"
        case .sequence: return "list"
        default: return "value"
        }
    }

    static func display(_ node: Node) -> String {
        if let s = node.scalar {
            return node.tag == Tag(.null) || s.string == "null" || s.string.isEmpty ? "null" : "\"\(s.string)\""
        }
        return ((try? Yams.serialize(node: node)) ?? "\(node)").trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: "\n", with: " ")
    }

    /// The allowed key nearest to a misspelt one (edit distance at most 3).
    static func closest(_ word: String, _ candidates: [String]) -> String? {
        NameSuggestion.closest(word, candidates, maxDistance: 3)
    }
}
