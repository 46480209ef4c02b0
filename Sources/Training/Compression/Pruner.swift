import Checkpoint
import Foundation
import NN

/// Pruning masks for a model's weights: which ones are zero, recomputed on a schedule and
/// applied after every update, so a pruned weight stays zero while the rest fine-tune.
///
/// The masks are a function of the weights alone, and the weights are the same on every
/// rank, so every rank computes the same masks without communicating. Ties in magnitude are
/// broken by position, so the masks are the same bits everywhere too.
public final class Pruner {
    /// A parameter with a mask (1 keeps an element, 0 prunes it).
    public struct Masked {
        public let name: String
        public let tensor: Tensor
        public let mask: NDArray
    }

    /// A piece of a parameter: elements `range` of masked parameter `index`.
    struct Slice { let index: Int, range: Range<Int> }

    /// A structured layer (a convolution's channels, an attention module's heads): each unit
    /// is pruned whole; its importance is the L2 norm of its `scored` slices.
    struct StructuredLayer {
        let name: String
        var units: [(scored: [Slice], zeroed: [Slice])]
    }

    public let config: PruningConfig
    /// When the masks change; end_step null is set by `plan(totalSteps:)`.
    public private(set) var schedule: PruningSchedule
    public private(set) var masked: [Masked] = []
    var layers: [StructuredLayer] = []
    /// The sparsity the masks were last computed for.
    public private(set) var currentTarget = 0.0

    /// Finds the prunable parameters of `model` (before a run starts, so a mistake leaves nothing behind).
    /// - Parameters:
    ///   - config: `pruning:` (its method is not none).
    ///   - model: the model whose parameters already live in their arena.
    ///   - totalSteps: the run's optimizer steps (end_step null is two thirds of them); nil
    ///     until the trainer knows them (`plan(totalSteps:)`).
    public init(config: PruningConfig, model: any Module, totalSteps: Int? = nil) throws {
        self.config = config
        schedule = PruningSchedule(
            initial: config.initialSparsity, final: config.sparsity, start: config.startStep,
            end: config.endStep ?? config.startStep, every: config.everySteps)
        let modules = model.namedModules()
        let parameters = Dictionary(uniqueKeysWithValues: model.namedParameters())
        func dotted(_ module: String, _ name: String) -> String { module.isEmpty ? name : module + "." + name }
        func excluded(_ name: String) -> Bool { config.exclude.contains { name == $0 || name.hasPrefix($0 + ".") } }
        func index(of name: String) -> Int {
            if let i = masked.firstIndex(where: { $0.name == name }) { return i }
            let t = parameters[name]!
            masked.append(Masked(name: name, tensor: t, mask: NDArray(repeating: 1, shape: t.shape)))
            return masked.count - 1
        }
        var candidates: [String] = []
        switch config.method {
        case .magnitude:
            for (name, module) in modules where module is Linear || module is Conv2d || module is ConvTranspose2d {
                let weight = dotted(name, "weight")
                candidates.append(weight)
                if !excluded(weight) { _ = index(of: weight) }
            }
        case .channels:
            for (position, (name, module)) in modules.enumerated() {
                guard let conv = module as? Conv2d else { continue }
                let weight = dotted(name, "weight")
                candidates.append(weight)
                guard !excluded(weight) else { continue }
                let channels = conv.weight.shape[0], perChannel = conv.weight.count / channels
                // The batch norm right after the convolution: its scale and shift would turn a
                // zeroed channel into a constant, so they are pruned with it.
                let norm = position + 1 < modules.count ? modules[position + 1] : nil
                let normName = (norm?.1 as? BatchNorm).flatMap { $0.weight?.count == channels ? norm!.0 : nil }
                let w = index(of: weight), b = conv.bias.map { _ in index(of: dotted(name, "bias")) }
                let nw = normName.map { index(of: dotted($0, "weight")) },
                    nb = normName.map { index(of: dotted($0, "bias")) }
                layers.append(
                    StructuredLayer(
                        name: name,
                        units: (0..<channels).map { c in
                            let filter = Slice(index: w, range: c * perChannel..<(c + 1) * perChannel)
                            let perChannelEntries = [b, nw, nb].compactMap { $0 }.map {
                                Slice(index: $0, range: c..<c + 1)
                            }
                            return ([filter], [filter] + perChannelEntries)
                        }))
            }
        case .none: break
        case .heads:
            for (name, module) in modules {
                guard let attention = module as? MultiHeadAttention else { continue }
                candidates.append(name)
                guard !excluded(name) else { continue }
                let width = attention.query.weight.shape[0], d = width / attention.heads
                let projections = [attention.query, attention.key, attention.value]
                let prefix = name.isEmpty ? "" : name + "."
                let rows = zip(["query", "key", "value"], projections).map { index(of: prefix + $0.0 + ".weight") }
                let biases = zip(["query", "key", "value"], projections).filter { $0.1.bias != nil }.map {
                    index(of: prefix + $0.0 + ".bias")
                }
                let output = index(of: prefix + "output.weight")
                let inputs = attention.output.weight.shape[1]
                layers.append(
                    StructuredLayer(
                        name: name,
                        units: (0..<attention.heads).map { h in
                            // Head h: rows h·d..<(h+1)·d of W_Q, W_K, W_V (each row `width` long), the same
                            // bias entries, and columns h·d..<(h+1)·d of every row of W_O.
                            let inRows = rows.map { Slice(index: $0, range: h * d * width..<(h + 1) * d * width) }
                            let columns = (0..<attention.output.weight.shape[0]).map {
                                Slice(index: output, range: $0 * inputs + h * d..<$0 * inputs + (h + 1) * d)
                            }
                            let scored = inRows + columns
                            return (scored, scored + biases.map { Slice(index: $0, range: h * d..<(h + 1) * d) })
                        }))
            }
        }
        let unknown = config.exclude.filter { e in !candidates.contains { $0 == e || $0.hasPrefix(e + ".") } }
        guard unknown.isEmpty else {
            throw ConfigError(
                "pruning.exclude names \(unknown.joined(separator: ", ")), which the model has no prunable "
                    + "\(config.method == .heads ? "attention module" : "weight") of; the prunable ones are: \(candidates.joined(separator: ", "))"
            )
        }
        guard !masked.isEmpty else {
            let what =
                switch config.method {
                case .magnitude, .none: "linear or convolution weights"
                case .channels: "convolutions"
                case .heads: "attention modules"
                }
            throw ConfigError(
                "pruning.method \(config.method) found no \(what) to prune in this model"
                    + (candidates.isEmpty ? "" : " (all are in pruning.exclude)")
                    + (config.method == .magnitude
                        ? "" : "; pruning.method magnitude prunes single weights of any linear or convolution layer"))
        }
        if let totalSteps { plan(totalSteps: totalSteps) }
    }

    /// Fixes the end of the schedule when `end_step` is null: two thirds into a run of `totalSteps`.
    public func plan(totalSteps: Int) {
        schedule = PruningSchedule(
            initial: config.initialSparsity, final: config.sparsity, start: config.startStep,
            end: config.endStep ?? max(config.startStep, totalSteps * 2 / 3), every: config.everySteps)
    }

    /// Recomputes the masks when the schedule says so, before the step after `step` steps.
    /// - Returns: the new target sparsity, or nil when the masks did not change.
    @discardableResult
    public func update(step: Int) -> Double? {
        guard schedule.updates(at: step) else { return nil }
        let target = schedule.sparsity(at: step)
        currentTarget = target
        if layers.isEmpty { pruneWeights(target) } else { pruneUnits(target) }
        applyToWeights()
        return target
    }

    /// Unstructured: the `target` fraction of weights with the smallest |w|, over all masked
    /// parameters (scope global) or in each (scope layer).
    func pruneWeights(_ target: Double) {
        let groups = config.scope == .global ? [Array(masked.indices)] : masked.indices.map { [$0] }
        for group in groups {
            var magnitudes: [Float] = []
            for i in group {
                magnitudes += UnsafeBufferPointer(start: masked[i].tensor.data.ptr, count: masked[i].mask.count).map(
                    \.magnitude)
            }
            let k = Int((target * Double(magnitudes.count)).rounded())
            var threshold = -Float.infinity, ties = 0
            if k > 0 {
                let sorted = magnitudes.sorted()
                threshold = sorted[k - 1]
                // Of the ties at the threshold, the first ones by position go.
                ties = k - sorted.prefix(k).firstIndex(of: threshold)!
            }
            var position = 0
            for i in group {
                let m = masked[i].mask.ptr
                for j in 0..<masked[i].mask.count {
                    let a = magnitudes[position]
                    position += 1
                    if a < threshold {
                        m[j] = 0
                    } else if a == threshold && ties > 0 {
                        m[j] = 0; ties -= 1
                    } else {
                        m[j] = 1
                    }
                }
            }
        }
    }

    /// Structured: in each layer, the `target` fraction of its units (at least one kept) with
    /// the smallest L2 norm.
    func pruneUnits(_ target: Double) {
        for i in masked.indices { masked[i].mask.ptr.update(repeating: 1, count: masked[i].mask.count) }
        for layer in layers {
            let norms = layer.units.map { unit in
                unit.scored.reduce(Float(0)) { sum, s in
                    let w = masked[s.index].tensor.data.ptr
                    return s.range.reduce(sum) { $0 + w[$1] * w[$1] }
                }
            }
            let k = min(Int((target * Double(norms.count)).rounded()), norms.count - 1)
            let order = norms.indices.sorted { (norms[$0], $0) < (norms[$1], $1) }
            for u in order.prefix(k) {
                for s in layer.units[u].zeroed { zero(s) }
            }
        }
    }

    private func zero(_ s: Slice) {
        (masked[s.index].mask.ptr + s.range.lowerBound).update(repeating: 0, count: s.range.count)
    }

    /// Zeroes the pruned weights (after every optimizer update, so momentum and weight decay
    /// cannot revive them).
    public func applyToWeights() {
        for m in masked { multiply(m.tensor.data.ptr, by: m.mask.ptr, count: m.mask.count) }
    }

    /// Zeroes the gradients of pruned weights (before clipping, so the norm is the norm of the
    /// weights that train; PyTorch's pruned weight w = w_orig · mask gives the same gradient).
    public func applyToGradients() {
        for m in masked { if let g = m.tensor.grad { multiply(g.ptr, by: m.mask.ptr, count: m.mask.count) } }
    }

    private func multiply(_ x: UnsafeMutablePointer<Float>, by mask: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { x[i] *= mask[i] }
    }

    /// The fraction of pruned elements of each masked parameter.
    public var layerSparsity: [(name: String, sparsity: Double)] {
        masked.map { ($0.name, Double(Self.zeros($0.mask)) / Double($0.mask.count)) }
    }

    /// The fraction of pruned elements over every masked parameter (every logged step: no copies).
    public var sparsity: Double {
        Double(masked.reduce(0) { $0 + Self.zeros($1.mask) }) / Double(max(masked.reduce(0) { $0 + $1.mask.count }, 1))
    }

    private static func zeros(_ mask: NDArray) -> Int {
        var n = 0
        for i in 0..<mask.count where mask.ptr[i] == 0 { n += 1 }
        return n
    }

    /// The masks as uint8 arrays (1 keeps, 0 prunes) under their parameters' names, for checkpoints.
    public var maskTensors: [(String, NDArray)] {
        masked.map { m in
            let out = NDArray(shape: m.mask.shape, dtype: .uint8, zeroed: false)
            let p = out.storage.raw.assumingMemoryBound(to: UInt8.self)
            for i in 0..<m.mask.count { p[i] = m.mask.ptr[i] == 0 ? 0 : 1 }
            return (m.name, out)
        }
    }

    /// Restores masks a checkpoint saved, and zeroes the weights they prune.
    /// - Parameters:
    ///   - tensors: name to uint8 mask, as `maskTensors` wrote them.
    ///   - target: the sparsity they were computed for.
    public func load(masks tensors: [String: NDArray], target: Double) throws {
        for m in masked {
            guard let saved = tensors[m.name], saved.shape == m.mask.shape, saved.dtype == .uint8 else {
                throw CheckpointError(
                    "the checkpoint has no pruning mask of shape \(m.mask.shape.dims) for \(m.name); "
                        + "it was written with other pruning settings (pruning.method, pruning.exclude)")
            }
            let p = saved.storage.raw.assumingMemoryBound(to: UInt8.self)
            for i in 0..<m.mask.count { m.mask.ptr[i] = p[i] == 0 ? 0 : 1 }
        }
        currentTarget = target
        applyToWeights()
    }

    /// One line per masked parameter, for the log.
    public var report: String {
        layerSparsity.map { String(format: "%@ %.3f", $0.name, $0.sparsity) }.joined(separator: ", ")
    }
}
