/// One entry of `optimizer.groups`: the parameters whose dotted name starts with `prefix`,
/// trained with their own learning rate and weight decay (discriminative fine-tuning).
public struct OptimizerGroupConfig: Codable, Equatable, Sendable {
    /// A parameter name prefix, e.g. `conv1.` or `fc3` (`tandem inspect RUN_DIR` lists the names).
    public var prefix: String
    /// The group's peak learning rate (null: `optimizer.lr`); the schedule scales it as it
    /// scales `optimizer.lr`.
    public var lr: Double?
    /// The group's weight decay (null: `optimizer.weight_decay`).
    public var weightDecay: Double?

    /// - Parameters:
    ///   - prefix: the parameter name prefix.
    ///   - lr: the group's learning rate (nil: the optimizer's).
    ///   - weightDecay: the group's weight decay (nil: the optimizer's).
    public init(prefix: String, lr: Double? = nil, weightDecay: Double? = nil) {
        (self.prefix, self.lr, self.weightDecay) = (prefix, lr, weightDecay)
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case prefix, lr
        case weightDecay = "weight_decay"
    }

    /// Any key of a group's mapping, to find the ones it does not know.
    struct AnyKey: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Decodes a group, refusing keys it does not know: the config's key check stops at lists,
    /// and a misspelt `lr` would otherwise train the group at the optimizer's rate unnoticed.
    public init(from decoder: Decoder) throws {
        let known = Set(CodingKeys.allCases.map(\.rawValue))
        let keys = try decoder.container(keyedBy: AnyKey.self).allKeys
        if let unknown = keys.sorted(by: { $0.stringValue < $1.stringValue }).first(where: {
            !known.contains($0.stringValue)
        }) {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath + [unknown],
                    debugDescription: "unknown key: a group has prefix, lr and weight_decay"))
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        prefix = try c.decode(String.self, forKey: .prefix)
        lr = try c.decodeIfPresent(Double.self, forKey: .lr)
        weightDecay = try c.decodeIfPresent(Double.self, forKey: .weightDecay)
    }

    /// Checks one group (`index` in the list) and that no two prefixes overlap.
    static func validate(_ groups: [OptimizerGroupConfig], _ v: inout ConfigValidator) {
        for (i, g) in groups.enumerated() {
            let path = "optimizer.groups[\(i)]"
            v.require(!g.prefix.isEmpty, path + ".prefix", g.prefix, "a non-empty parameter name prefix")
            v.require(
                g.lr.map { $0 > 0 && $0.isFinite } ?? true, path + ".lr", g.lr,
                "null (optimizer.lr) or a positive number")
            v.require(
                g.weightDecay.map { $0 >= 0 && $0.isFinite } ?? true, path + ".weight_decay", g.weightDecay,
                "null (optimizer.weight_decay) or a non-negative number")
        }
        // A parameter must belong to one group: no prefix may start another.
        for (i, a) in groups.enumerated() {
            for (j, b) in groups.enumerated() where i < j && !a.prefix.isEmpty && !b.prefix.isEmpty {
                if a.prefix.hasPrefix(b.prefix) || b.prefix.hasPrefix(a.prefix) {
                    v.fail(
                        "optimizer.groups[\(i)].prefix \"\(a.prefix)\" and optimizer.groups[\(j)].prefix "
                            + "\"\(b.prefix)\" overlap; allowed: prefixes of which none starts another, "
                            + "so each parameter belongs to one group")
                }
            }
        }
    }
}
