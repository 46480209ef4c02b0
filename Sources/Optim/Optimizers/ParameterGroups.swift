import Autograd

/// Contiguous runs of the arena that share a weight decay, and where their optimizer state lives.
///
/// PyTorch users put biases and normalisation parameters in a group without weight decay;
/// here a group is a set of arena entries, and the optimizer walks merged contiguous runs so
/// it still makes one pass per run rather than one per parameter. A sharded optimizer's groups
/// are `restricted` to its rank's ranges, and its state arrays then hold only those elements,
/// one after the other.
public struct ParameterGroups: Sendable {
    /// A range of arena elements (padding included), the weight decay that applies to it, and
    /// where its first element lives in the optimizer's state arrays.
    public struct Run: Sendable, Equatable {
        public let range: Range<Int>
        public let weightDecay: Float
        public let stateOffset: Int
        /// The run's learning rate as a multiple of the optimizer's (`optimizer.groups`' lr over
        /// `optimizer.lr`), so a schedule scales every group alike.
        public let lrScale: Float
        /// The L1 coefficient: l1·sign(p) joins the gradient (the decayed parameters only).
        public let l1: Float

        public init(range: Range<Int>, weightDecay: Float, stateOffset: Int? = nil, lrScale: Float = 1, l1: Float = 0) {
            (self.range, self.weightDecay, self.stateOffset) = (range, weightDecay, stateOffset ?? range.lowerBound)
            (self.lrScale, self.l1) = (lrScale, l1)
        }

        /// The same settings over another range of arena elements.
        func moved(to range: Range<Int>, stateOffset: Int? = nil) -> Run {
            Run(range: range, weightDecay: weightDecay, stateOffset: stateOffset, lrScale: lrScale, l1: l1)
        }

        /// Whether two runs apply the same update rule.
        func sameSettings(_ other: Run) -> Bool {
            weightDecay == other.weightDecay && lrScale == other.lrScale && l1 == other.l1
        }
    }

    /// A named group's settings: the parameters whose dotted name starts with `prefix`.
    public struct Assignment: Sendable, Equatable {
        public let prefix: String
        /// The group's learning rate over the optimizer's.
        public let lrScale: Float
        /// The group's weight decay (nil: the optimizer's).
        public let weightDecay: Float?

        public init(prefix: String, lrScale: Float = 1, weightDecay: Float? = nil) {
            (self.prefix, self.lrScale, self.weightDecay) = (prefix, lrScale, weightDecay)
        }
    }

    public let runs: [Run]
    /// The arena entry names without weight decay, for the log.
    public let undecayed: [String]
    /// The arena elements the optimizer's state arrays hold, in order: the whole arena, or the
    /// ranges the groups were restricted to.
    public let stateRanges: [Range<Int>]
    /// Whether `restricted(to:)` made these groups.
    public let isRestricted: Bool

    /// One weight decay for every parameter, except that biases and normalisation weights
    /// (every parameter with fewer than two dimensions, as nanoGPT decides) get none unless
    /// `decayBiasAndNorm`; named groups then set their own learning rate and decay.
    /// - Parameters:
    ///   - arena: the parameters.
    ///   - weightDecay: the decay of the decayed group.
    ///   - decayBiasAndNorm: decay one-dimensional parameters too.
    ///   - l1: the L1 coefficient of the decayed parameters (0: none).
    ///   - assignments: named groups by name prefix (the first that matches wins); the others
    ///     keep the optimizer's rate and decay.
    ///   - including: which parameters (by dotted name) the optimizer updates; the others are
    ///     left alone (a GAN's two optimizers each take one player's parameters).
    public init(
        _ arena: ParameterArena, weightDecay: Float, decayBiasAndNorm: Bool = false, l1: Float = 0,
        assignments: [Assignment] = [], including: (String) -> Bool = { _ in true }
    ) {
        precondition(weightDecay >= 0 && l1 >= 0, "weight decay and l1 must be non-negative, got \(weightDecay), \(l1)")
        var runs: [Run] = [], undecayed: [String] = []
        for (i, e) in arena.entries.enumerated() where including(e.name) {
            let decays = decayBiasAndNorm || e.shape.rank >= 2
            if !decays { undecayed.append(e.name) }
            let group = assignments.first { e.name.hasPrefix($0.prefix) }
            let wd: Float = decays ? group?.weightDecay ?? weightDecay : 0
            let end = i + 1 < arena.entries.count ? arena.entries[i + 1].offset : arena.capacity
            let run = Run(range: e.offset..<end, weightDecay: wd, lrScale: group?.lrScale ?? 1, l1: decays ? l1 : 0)
            if let last = runs.last, last.sameSettings(run), last.range.upperBound == e.offset {
                runs[runs.count - 1] = last.moved(to: last.range.lowerBound..<end)
            } else {
                runs.append(run)
            }
        }
        self.init(runs: runs, undecayed: undecayed, stateRanges: [0..<arena.capacity], isRestricted: false)
    }

    /// The runs of several groups over disjoint parameters of one arena, in arena order.
    public init(merging parts: [ParameterGroups]) {
        self.init(
            runs: parts.flatMap(\.runs).sorted { $0.range.lowerBound < $1.range.lowerBound },
            undecayed: parts.flatMap(\.undecayed),
            stateRanges: parts.first?.stateRanges ?? [], isRestricted: parts.contains(where: \.isRestricted))
    }

    private init(runs: [Run], undecayed: [String], stateRanges: [Range<Int>], isRestricted: Bool) {
        (self.runs, self.undecayed, self.stateRanges, self.isRestricted) = (runs, undecayed, stateRanges, isRestricted)
    }

    /// These groups limited to the arena elements in `ranges`: each run is cut to its overlap
    /// with every range, keeping its weight decay, and the state arrays hold the ranges'
    /// elements one after the other.
    /// - Parameter ranges: sorted, disjoint ranges of arena elements.
    public func restricted(to ranges: [Range<Int>]) -> ParameterGroups {
        precondition(!isRestricted, "parameter groups can be restricted once")
        precondition(
            zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound <= $1.lowerBound },
            "ranges must be sorted and disjoint")
        var pieces: [Run] = [], base = 0
        for r in ranges {
            for run in runs {
                let overlap = run.range.clamped(to: r)
                if !overlap.isEmpty {
                    pieces.append(run.moved(to: overlap, stateOffset: base + overlap.lowerBound - r.lowerBound))
                }
            }
            base += r.count
        }
        return ParameterGroups(runs: pieces, undecayed: undecayed, stateRanges: ranges, isRestricted: true)
    }

    /// Elements in each of the optimizer's state arrays.
    public var stateCount: Int { stateRanges.reduce(0) { $0 + $1.count } }

    /// A zeroed state array.
    func makeState() -> NDArray { NDArray(shape: [stateCount]) }

    /// The state's elements of an array in the arena's layout: the array itself unless restricted.
    func compact(_ arenaLayout: NDArray) -> NDArray {
        guard isRestricted else { return arenaLayout }
        let out = makeState()
        var at = 0
        for r in stateRanges {
            (out.ptr + at).update(from: arenaLayout.ptr + r.lowerBound, count: r.count)
            at += r.count
        }
        return out
    }

    /// A state array in the arena's layout (zero outside `stateRanges`): itself unless restricted.
    func expand(_ state: NDArray, capacity: Int) -> NDArray {
        guard isRestricted else { return state }
        let out = NDArray(shape: [capacity])
        var at = 0
        for r in stateRanges {
            (out.ptr + r.lowerBound).update(from: state.ptr + at, count: r.count)
            at += r.count
        }
        return out
    }

    /// Calls `body` on every chunk of every run, in parallel, with the run (its weight decay,
    /// learning-rate scale and L1) and its state shift: arena element i's state is at i - shift
    /// in the state arrays.
    func forEachChunk(_ body: (Range<Int>, Run, Int) -> Void) {
        for run in runs {
            ThreadPool.shared.parallelFor(run.range.count, grain: 1 << 15) { r in
                body(
                    (run.range.lowerBound + r.lowerBound)..<(run.range.lowerBound + r.upperBound), run,
                    run.range.lowerBound - run.stateOffset)
            }
        }
    }
}
