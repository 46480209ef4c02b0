import Autograd

/// Several optimizers over disjoint parts of one arena, stepped together or one at a time.
///
/// A GAN's generator and discriminator live in one arena (so one gradient reducer serves
/// both) but are updated in alternation, each by its own optimizer with its own moments and
/// step count. Schedules set every part's learning rate; checkpoints save every part's state
/// under "PART/NAME".
public final class PartitionedOptimizer: Optimizer {
    public let parts: [(name: String, optimizer: Optimizer)]

    /// - Parameter parts: named optimizers on the same arena, each with its own parameter groups.
    public init(_ parts: [(name: String, optimizer: Optimizer)]) {
        precondition(
            !parts.isEmpty && parts.allSatisfy { $0.optimizer.arena === parts[0].optimizer.arena },
            "the parts of a partitioned optimizer must share one arena")
        self.parts = parts
    }

    public var arena: ParameterArena { parts[0].optimizer.arena }

    public var learningRate: Float {
        get { parts[0].optimizer.learningRate }
        set { for p in parts { p.optimizer.learningRate = newValue } }
    }

    public var cycledMomentum: Float {
        get { parts[0].optimizer.cycledMomentum }
        set { for p in parts { p.optimizer.cycledMomentum = newValue } }
    }

    /// Every part's runs together.
    public var groups: ParameterGroups { ParameterGroups(merging: parts.map(\.optimizer.groups)) }

    public func restrictUpdates(to ranges: [Range<Int>]) { for p in parts { p.optimizer.restrictUpdates(to: ranges) } }

    /// Steps every part.
    public func step() { for p in parts { p.optimizer.step() } }

    /// Steps the part called `name` only.
    public func step(part name: String) {
        guard let part = parts.first(where: { $0.name == name }) else {
            preconditionFailure("no optimizer part \(name)")
        }
        part.optimizer.step()
    }

    public var state: [String: NDArray] {
        var out: [String: NDArray] = [:]
        for p in parts { for (k, v) in p.optimizer.state { out["\(p.name)/\(k)"] = v } }
        return out
    }

    /// Each part loads the entries under its name, and checks them itself: a part's current
    /// keys are no guide, since SGD has no momentum buffer before its first step.
    public func load(state: [String: NDArray]) throws {
        let stray = state.keys.filter { key in !parts.contains { key.hasPrefix($0.name + "/") } }
        guard stray.isEmpty else {
            throw OptimizerStateError(
                description: "optimizer state \(stray.sorted().joined(separator: ", ")) belongs to none of the parts "
                    + "\(parts.map(\.name).joined(separator: ", ")); was the checkpoint saved with another optimizer?")
        }
        for p in parts {
            let prefix = p.name + "/"
            try p.optimizer.load(
                state: Dictionary(
                    uniqueKeysWithValues: state.filter { $0.key.hasPrefix(prefix) }
                        .map { (String($0.key.dropFirst(prefix.count)), $0.value) }))
        }
    }
}
