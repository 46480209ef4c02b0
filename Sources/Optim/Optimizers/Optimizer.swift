import Autograd

/// An update rule over the flat parameter arena.
///
/// Optimizers see only the arena (a flat list of named parameters), never a Module. Each one
/// folds the arena's `gradientScale` (1/world, clipping) into the pass it makes anyway.
public protocol Optimizer: AnyObject {
    var arena: ParameterArena { get }
    /// The learning rate of the next step; schedules set it before every step.
    var learningRate: Float { get set }
    /// The momentum a one-cycle schedule cycles: SGD's and RMSprop's momentum, Adam's beta1.
    var cycledMomentum: Float { get set }
    /// The parameter groups with their weight decay.
    var groups: ParameterGroups { get }
    /// Applies one update to every parameter from the current gradients.
    func step()
    /// Limits every later step to the arena elements in `ranges`: this rank's shard when the
    /// optimizer is sharded over ranks (ZeRO stage 1), which updates only the parameters whose
    /// summed gradients it holds. The state arrays keep the whole arena's layout, so
    /// checkpoints (after the ranks gather the state) and resuming on another world size do
    /// not change.
    /// - Parameter ranges: sorted, disjoint ranges of arena elements.
    func restrictUpdates(to ranges: [Range<Int>])
    /// Named state arrays (moments, momentum buffers) and scalars (step count), for checkpoints.
    var state: [String: NDArray] { get }
    /// Restores what `state` returned (from a checkpoint); names it does not know are errors.
    func load(state: [String: NDArray]) throws
}

/// A checkpoint's optimizer state that does not fit this optimizer.
public struct OptimizerStateError: Error, CustomStringConvertible {
    public let description: String
}

extension Optimizer {
    /// Copies `array` into `target` after checking the shape, naming the state on mismatch.
    func restore(_ name: String, _ array: NDArray, into target: NDArray) throws {
        guard array.count == target.count, array.dtype == target.dtype else {
            throw OptimizerStateError(description: "optimizer state \(name) has \(array.count) \(array.dtype) values; this optimizer "
                + "needs \(target.count) \(target.dtype) (the checkpoint was saved from a different model)")
        }
        target.assign(array.reshaped(target.shape))
    }

    /// Fails on names this optimizer does not keep.
    func checkNames(_ state: [String: NDArray], allowed: Set<String>) throws {
        let unknown = Set(state.keys).subtracting(allowed)
        guard unknown.isEmpty else {
            throw OptimizerStateError(description: "optimizer state \(unknown.sorted().joined(separator: ", ")) does not belong to "
                + "\(type(of: self)) (it keeps \(allowed.sorted().joined(separator: ", "))); was the checkpoint saved with another optimizer?")
        }
    }
}

/// Contiguous runs of the arena that share a weight decay.
///
/// PyTorch users put biases and normalisation parameters in a group without weight decay;
/// here a group is a set of arena entries, and the optimizer walks merged contiguous runs so
/// it still makes one pass per run rather than one per parameter.
public struct ParameterGroups: Sendable {
    /// A range of arena elements (padding included) and the weight decay that applies to it.
    public struct Run: Sendable, Equatable {
        public let range: Range<Int>
        public let weightDecay: Float
    }

    public let runs: [Run]
    /// The arena entry names without weight decay, for the log.
    public let undecayed: [String]

    /// One weight decay for every parameter, except that biases and normalisation weights
    /// (every parameter with fewer than two dimensions, as nanoGPT decides) get none unless
    /// `decayBiasAndNorm`.
    /// - Parameters:
    ///   - arena: the parameters.
    ///   - weightDecay: the decay of the decayed group.
    ///   - decayBiasAndNorm: decay one-dimensional parameters too.
    ///   - including: which parameters (by dotted name) the optimizer updates; the others are
    ///     left alone (a GAN's two optimizers each take one player's parameters).
    public init(_ arena: ParameterArena, weightDecay: Float, decayBiasAndNorm: Bool = false,
                including: (String) -> Bool = { _ in true }) {
        precondition(weightDecay >= 0, "weight decay must be non-negative, got \(weightDecay)")
        var runs: [Run] = [], undecayed: [String] = []
        for (i, e) in arena.entries.enumerated() where including(e.name) {
            let decays = decayBiasAndNorm || e.shape.rank >= 2
            if !decays { undecayed.append(e.name) }
            let wd: Float = decays ? weightDecay : 0
            let end = i + 1 < arena.entries.count ? arena.entries[i + 1].offset : arena.capacity
            if let last = runs.last, last.weightDecay == wd, last.range.upperBound == e.offset {
                runs[runs.count - 1] = Run(range: last.range.lowerBound..<end, weightDecay: wd)
            } else {
                runs.append(Run(range: e.offset..<end, weightDecay: wd))
            }
        }
        self.runs = runs
        self.undecayed = undecayed
    }

    /// The runs of several groups over disjoint parameters, in arena order.
    public init(merging parts: [ParameterGroups]) {
        self.init(runs: parts.flatMap(\.runs).sorted { $0.range.lowerBound < $1.range.lowerBound }, undecayed: parts.flatMap(\.undecayed))
    }

    /// These groups limited to the arena elements in `ranges` (sorted and disjoint): each run
    /// is cut to its overlap with every range, keeping its weight decay.
    public func restricted(to ranges: [Range<Int>]) -> ParameterGroups {
        ParameterGroups(runs: runs.flatMap { run in
            ranges.compactMap { r in
                let overlap = run.range.clamped(to: r)
                return overlap.isEmpty ? nil : Run(range: overlap, weightDecay: run.weightDecay)
            }
        }, undecayed: undecayed)
    }

    private init(runs: [Run], undecayed: [String]) {
        self.runs = runs
        self.undecayed = undecayed
    }

    /// Calls `body` on every chunk of every run, in parallel, with the run's weight decay.
    func forEachChunk(_ body: (Range<Int>, Float) -> Void) {
        for run in runs {
            ThreadPool.shared.parallelFor(run.range.count, grain: 1 << 15) { r in
                body((run.range.lowerBound + r.lowerBound)..<(run.range.lowerBound + r.upperBound), run.weightDecay)
            }
        }
    }
}
