import Autograd
import NN

/// `training.freeze` and `training.unfreeze_at_epoch`: which parameters stay fixed, and the
/// arena of the ones that train.
///
/// Frozen parameters stay out of the parameter arena: they get no gradient slot, no place in
/// an allreduce bucket, no optimizer state, no weight decay and no part in the gradient norm,
/// and backward computes no gradient for them (they do not require one). Batch-norm layers
/// among them still update their running statistics in training mode, as PyTorch's do unless
/// the module is put in eval mode. At `unfreeze_at_epoch` the arena is built again over every
/// parameter, with a new gradient reducer and a fresh optimizer.
struct ParameterFreezing {
    /// The name prefixes of `training.freeze`.
    let prefixes: [String]
    /// The epoch index (from 0) at whose start the frozen parameters join training; nil: never.
    let unfreezeEpoch: Int?

    /// - Parameter config: `training:`.
    init(config: TrainingConfig) {
        prefixes = config.freeze
        unfreezeEpoch = config.unfreezeAtEpoch.map { $0 - 1 }
    }

    /// Whether the parameter called `name` is one `training.freeze` names.
    func covers(_ name: String) -> Bool { prefixes.contains { name.hasPrefix($0) } }

    /// Whether the parameters are still frozen at a run's position (a fresh start or a resumed
    /// checkpoint): before the unfreezing epoch, or at its very start, since a checkpoint at an
    /// epoch's end was saved before the next epoch unfroze anything.
    /// - Parameters:
    ///   - epoch: the epoch in progress (from 0).
    ///   - position: samples of it already trained on.
    func isFrozen(epoch: Int, position: Int) -> Bool {
        guard !prefixes.isEmpty else { return false }
        guard let at = unfreezeEpoch else { return true }
        return epoch < at || (epoch == at && position == 0)
    }

    /// The parameter arena: every parameter, or while frozen only the trainable ones (the
    /// frozen ones then stop requiring gradients).
    /// - Parameters:
    ///   - model: the model.
    ///   - frozen: whether `training.freeze` applies now.
    func arena(for model: any Module, frozen: Bool) -> ParameterArena {
        let all = model.namedParameters()
        guard frozen else { return ParameterArena(all) }
        for (name, tensor) in all where covers(name) { tensor.requiresGrad = false }
        return ParameterArena(all.filter { !covers($0.0) })
    }

    /// The arena of a run that starts fresh or resumes from `resumed`.
    func arena(for model: any Module, resumed: CheckpointManifest?) -> ParameterArena {
        arena(for: model, frozen: isFrozen(epoch: resumed?.epoch ?? 0, position: resumed?.positionInEpoch ?? 0))
    }

    /// Checks the name prefixes of `training.freeze` and `optimizer.groups` against the model.
    /// - Throws: `ConfigError` for a prefix that matches no parameter (listing the model's
    ///   top-level names) or a freeze that leaves nothing to train.
    static func check(_ config: TrainConfig, model: any Module) throws {
        let names = model.namedParameters().map(\.0)
        var problems: [String] = []
        let keyed =
            config.training.freeze.map { ("training.freeze", $0) }
            + config.optimizer.groups.enumerated().map { ("optimizer.groups[\($0.offset)].prefix", $0.element.prefix) }
        for (key, prefix) in keyed where !names.contains(where: { $0.hasPrefix(prefix) }) {
            problems.append(
                "\(key) has \"\(prefix)\", which matches no parameter of model \(config.model.name); its "
                    + "parameters start with \(topLevel(names).joined(separator: ", "))")
        }
        let freezing = ParameterFreezing(config: config.training)
        if !config.training.freeze.isEmpty && names.allSatisfy(freezing.covers) {
            problems.append(
                "training.freeze is \(config.training.freeze), which covers every parameter of model "
                    + "\(config.model.name); allowed: prefixes that leave some parameters to train")
        }
        if !problems.isEmpty { throw ConfigError(problems) }
    }

    /// The first component of every dotted name (`conv1.weight` gives `conv1.`), in model order.
    static func topLevel(_ names: [String]) -> [String] {
        var seen = Set<String>(), out: [String] = []
        for name in names {
            let head = name.firstIndex(of: ".").map { String(name[...$0]) } ?? name
            if seen.insert(head).inserted { out.append(head) }
        }
        return out
    }
}
