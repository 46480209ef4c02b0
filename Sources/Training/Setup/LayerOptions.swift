import Datasets

/// The keys of one `model.layers` entry, each read with its type and default; a missing
/// required key, a mistyped value or a key the kind does not have is a `ConfigError` that
/// names the entry (`model.layers[3] conv`).
struct LayerOptions {
    /// Where the entry is, as `model.layers[3]` or `model.layers[3].residual[1]`.
    let path: String
    let kind: String
    let values: [LayerValue.Entry]
    /// An example of the kind written out, for the message of a missing key.
    let example: String

    /// `path kind`, the prefix of every message about the entry.
    var label: String { "\(path) \(kind)" }

    /// The raw value of `key`, if given.
    func value(_ key: String) -> LayerValue? { values.first { $0.key == key }?.value }

    /// Checks that every key given is one of `allowed` (plus `name`).
    func checkKeys(_ allowed: [String]) throws {
        let keys = allowed + ["name"]
        for entry in values where !keys.contains(entry.key) {
            let hint = NameSuggestion.closest(entry.key, keys, maxDistance: max(entry.key.count / 3, 1))
            throw ConfigError(
                "\(label) has no key \(entry.key)\(hint.map { " (did you mean \($0)?)" } ?? ""); "
                    + "its keys: \(keys.joined(separator: ", "))")
        }
    }

    func missing(_ key: String) -> ConfigError {
        ConfigError("\(label) needs the key \(key), e.g. \(example)")
    }

    func wrong(_ key: String, _ value: LayerValue, _ allowed: String) -> ConfigError {
        ConfigError("\(label) key \(key) is \(value); allowed: \(allowed)")
    }

    /// An integer at least `minimum`; required when `fallback` is nil.
    func int(_ key: String, _ fallback: Int? = nil, minimum: Int = 1) throws -> Int {
        guard let v = value(key) else {
            guard let fallback else { throw missing(key) }
            return fallback
        }
        guard case .int(let n) = v, n >= minimum, n <= ConfigLimits.width else {
            throw wrong(key, v, "an integer from \(minimum) to \(ConfigLimits.width)")
        }
        return n
    }

    /// An integer, or [height, width], each at least `minimum`.
    func pair(_ key: String, _ fallback: (Int, Int)? = nil, minimum: Int = 1) throws -> (Int, Int) {
        guard let v = value(key) else {
            guard let fallback else { throw missing(key) }
            return fallback
        }
        let allowed = "an integer >= \(minimum), or [height, width]"
        switch v {
        case .int(let n) where n >= minimum && n <= ConfigLimits.width: return (n, n)
        case .list(let items) where items.count == 2:
            guard case .int(let h) = items[0], case .int(let w) = items[1], min(h, w) >= minimum,
                max(h, w) <= ConfigLimits.width
            else { throw wrong(key, v, allowed) }
            return (h, w)
        default: throw wrong(key, v, allowed)
        }
    }

    /// A number in `range` (integers accepted).
    func double(_ key: String, _ fallback: Double, _ range: String, _ check: (Double) -> Bool) throws -> Double {
        guard let v = value(key) else { return fallback }
        let d: Double
        switch v {
        case .int(let n): d = Double(n)
        case .double(let x): d = x
        default: throw wrong(key, v, range)
        }
        guard d.isFinite, check(d) else { throw wrong(key, v, range) }
        return d
    }

    func bool(_ key: String, _ fallback: Bool) throws -> Bool {
        guard let v = value(key) else { return fallback }
        guard case .bool(let b) = v else { throw wrong(key, v, "true or false") }
        return b
    }

    /// One of `allowed`.
    func choice(_ key: String, _ fallback: String, _ allowed: [String]) throws -> String {
        guard let v = value(key) else { return fallback }
        guard case .string(let s) = v, allowed.contains(s) else {
            throw ConfigError("\(label) key \(key) is \(v); " + NameSuggestion.unknown(v.description, allowed: allowed))
        }
        return s
    }
}
