import Autograd
import Optim
import Testing

/// What a sharded optimizer (ZeRO stage 1) relies on: optimizers restricted to disjoint parts
/// of the arena update only those parts, and together make the unrestricted step to the bit.
@Suite("Optimizers restricted to a shard of the arena")
struct ShardedUpdateTests {
    /// Three parameters: a matrix and a vector with weight decay, a bias without.
    static func arena(seed: UInt64) -> ParameterArena {
        var rng = PhiloxRNG(seed: seed)
        func tensor(_ shape: [Int]) -> Tensor {
            let x = NDArray(shape: Shape(shape), zeroed: false)
            rng.fillNormal(x.ptr, x.count)
            return Tensor(x, requiresGrad: true)
        }
        return ParameterArena([("w", tensor([7, 9])), ("b", tensor([9])), ("v", tensor([5, 11]))])
    }

    static func fillGradients(_ arena: ParameterArena, step: Int) {
        var rng = PhiloxRNG(seed: 1000 + UInt64(step))
        rng.fillNormal(arena.grads.ptr, arena.capacity)
        // The padding's gradient stays zero, as backward leaves it.
        for (i, e) in arena.entries.enumerated() {
            let end = i + 1 < arena.entries.count ? arena.entries[i + 1].offset : arena.capacity
            for j in (e.offset + e.count)..<end { arena.grads.ptr[j] = 0 }
        }
    }

    @Test func restrictedGroupsAreTheOverlapsWithTheirWeightDecay() {
        let arena = Self.arena(seed: 1)
        let groups = ParameterGroups(arena, weightDecay: 0.1)
        #expect(groups.runs.count == 3 && groups.undecayed == ["b"])
        let ranges = [5..<70, 90..<(arena.capacity - 3)]
        let restricted = groups.restricted(to: ranges)
        #expect(restricted.undecayed == ["b"])
        for run in restricted.runs {
            #expect(ranges.contains { $0.clamped(to: run.range) == run.range }, "\(run.range) leaves the ranges")
            let original = groups.runs.first { $0.range.clamped(to: run.range) == run.range }
            #expect(original?.weightDecay == run.weightDecay, "\(run.range) changed its weight decay")
        }
        // Every element of the ranges that some run covered is still covered, exactly once.
        let covered = restricted.runs.flatMap { Array($0.range) }
        let expected = ranges.flatMap { r in r.filter { i in groups.runs.contains { $0.range.contains(i) } } }
        #expect(covered == expected)
        #expect(groups.restricted(to: []).runs.isEmpty)
    }

    /// Two optimizers restricted to complementary parts (cut at odd places, so Adam's eight-wide
    /// loop meets ragged ends) reach the bits of one unrestricted optimizer over three steps,
    /// each keeping only its part's state; one part alone leaves the other part's parameters
    /// alone; their states together are the reference's, and loaded from it they go on alike.
    @Test(arguments: ["sgd", "nesterov", "adam", "adamw", "rmsprop", "partitioned"])
    func complementaryShardsMakeTheWholeStep(name: String) throws {
        func make(_ arena: ParameterArena) -> Optimizer {
            let groups = ParameterGroups(arena, weightDecay: 0.05)
            switch name {
            case "sgd": return SGD(arena, learningRate: 0.1, momentum: 0.9, groups: groups)
            case "nesterov": return SGD(arena, learningRate: 0.1, momentum: 0.9, nesterov: true, groups: groups)
            case "adam": return Adam(arena, learningRate: 0.01, groups: groups)
            case "adamw": return Adam(arena, learningRate: 0.01, decoupledWeightDecay: true, groups: groups)
            case "partitioned":  // a GAN's two players, each restricted in turn
                let first = ParameterGroups(arena, weightDecay: 0.05, including: { $0 == "w" })
                let rest = ParameterGroups(arena, weightDecay: 0.05, including: { $0 != "w" })
                return PartitionedOptimizer([
                    ("first", Adam(arena, learningRate: 0.01, groups: first)),
                    ("rest", SGD(arena, learningRate: 0.1, momentum: 0.9, groups: rest)),
                ])
            default: return RMSprop(arena, learningRate: 0.01, momentum: 0.5, centered: true, groups: groups)
            }
        }
        let whole = Self.arena(seed: 2), sharded = Self.arena(seed: 2)
        let reference = make(whole)
        let cut = 37
        let first = make(sharded), second = make(sharded)
        first.restrictUpdates(to: [0..<cut, 100..<121])
        second.restrictUpdates(to: [cut..<100, 121..<sharded.capacity])
        for step in 0..<3 {
            Self.fillGradients(whole, step: step)
            Self.fillGradients(sharded, step: step)
            reference.step()
            let before = sharded.values.scalars
            first.step()
            let after = sharded.values.scalars
            for i in Array(cut..<100) + Array(121..<sharded.capacity) {
                #expect(
                    after[i].bitPattern == before[i].bitPattern,
                    "step \(step): element \(i) outside the first shard moved")
            }
            second.step()
            #expect(sharded.values.scalars.map(\.bitPattern) == whole.values.scalars.map(\.bitPattern), "step \(step)")
        }
        #expect(
            sharded.values.scalars != Self.arena(seed: 2).values.scalars, "the optimizer did not move the parameters")

        // Each keeps only its shard's moments; expanded to the arena's layout (zero elsewhere),
        // the two states add up to the reference's, so gathering them is what a checkpoint needs.
        let owned = first.groups.stateCount
        #expect(owned == cut + 21 && second.groups.stateCount == sharded.capacity - owned)
        for (name, whole) in reference.state where whole.count == sharded.capacity {
            let a = first.state[name]!, b = second.state[name]!
            #expect(a.count == sharded.capacity && b.count == sharded.capacity)
            // Each element is one shard's value plus the other's zero: exact (== so that -0 + 0 matches -0).
            #expect(zip(a.scalars, b.scalars).map { $0 + $1 } == whole.scalars, "\(name)")
        }
        if name != "partitioned" {
            let stored = Mirror(reflecting: first).children.compactMap {
                $0.value as? NDArray ?? ($0.value as? NDArray?) ?? nil
            }
            #expect(
                !stored.isEmpty && stored.allSatisfy { $0.count == owned },
                "\(name) keeps \(stored.map(\.count)), not \(owned)")
        }

        // Restricted optimizers loaded from the whole state (a checkpoint) go on as the reference does.
        let resumedFirst = make(sharded), resumedSecond = make(sharded)
        resumedFirst.restrictUpdates(to: [0..<cut, 100..<121])
        resumedSecond.restrictUpdates(to: [cut..<100, 121..<sharded.capacity])
        try resumedFirst.load(state: reference.state)
        try resumedSecond.load(state: reference.state)
        Self.fillGradients(whole, step: 3)
        Self.fillGradients(sharded, step: 3)
        reference.step()
        resumedFirst.step()
        resumedSecond.step()
        #expect(sharded.values.scalars.map(\.bitPattern) == whole.values.scalars.map(\.bitPattern), "after resuming")
    }
}
