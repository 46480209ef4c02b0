import Datasets
import Testing

@Suite("DistributedSampler semantics")
struct DistributedSamplerTests {
    /// Deterministic mode: every step's micro-shards hold the same samples in the same order on
    /// 1, 2, 3, 4, 6 and 12 ranks (rank r's part of step t is shards r·k ..< (r+1)·k), the last
    /// global batch is padded the same way, and resuming from a step boundary continues alike.
    @Test(arguments: [false, true])
    func microShardsDoNotDependOnTheWorldSize(dropLast: Bool) {
        let (count, size, shards) = (137, 5, 12), global = size * shards
        let one = DistributedSampler(
            count: count, rank: 0, worldSize: 1, seed: 3, dropLast: dropLast, microShards: (size, shards))
        let steps = dropLast ? count / global : (count + global - 1) / global
        #expect(one.samplesPerRank == steps * global)
        for position in [0, global] {
            let reference = one.indices(epoch: 1, from: position)
            #expect(reference == Array(one.globalOrder(epoch: 1)[position...]))
            for world in [2, 3, 4, 6, 12] {
                let parts = (0..<world).map {
                    DistributedSampler(
                        count: count, rank: $0, worldSize: world, seed: 3, dropLast: dropLast,
                        microShards: (size, shards)
                    )
                    .indices(epoch: 1, from: position)
                }
                let mine = global / world
                let steps = reference.count / global
                // Step t of the world: rank 0's slice, then rank 1's, ... equals step t of one rank.
                let joined = (0..<steps).flatMap { t in parts.flatMap { $0[(t * mine)..<((t + 1) * mine)] } }
                #expect(joined == reference, "world \(world), from \(position)")
            }
        }
    }

    @Test(arguments: [(10, 3, false), (10, 3, true), (12, 4, false), (7, 2, false), (5, 5, true)])
    func ranksPartitionThePaddedEpoch(count: Int, world: Int, dropLast: Bool) {
        let samplers = (0..<world).map {
            DistributedSampler(count: count, rank: $0, worldSize: world, seed: 42, dropLast: dropLast)
        }
        let perRank = dropLast ? count / world : (count + world - 1) / world
        for s in samplers { #expect(s.indices(epoch: 0).count == perRank) }
        // Rank r takes order[r::world]; together the ranks cover the padded order exactly.
        let order = samplers[0].globalOrder(epoch: 0)
        for (r, s) in samplers.enumerated() {
            #expect(s.indices(epoch: 0) == stride(from: r, to: order.count, by: world).map { order[$0] })
        }
        let all = samplers.flatMap { $0.indices(epoch: 0) }
        if dropLast {
            #expect(Set(all).count == all.count)  // no sample twice
        } else {
            #expect(Set(all) == Set(0..<count))  // every sample at least once
            // Padding repeats from the front of the shuffled order.
            let unpadded = Array(order.prefix(count))
            #expect(Array(order.dropFirst(count)) == Array(unpadded.prefix(order.count - count)))
        }
    }

    @Test func epochsReshuffleAndRanksAgree() {
        let a = DistributedSampler(count: 100, rank: 0, worldSize: 2, seed: 1)
        let b = DistributedSampler(count: 100, rank: 1, worldSize: 2, seed: 1)
        #expect(a.globalOrder(epoch: 3) == b.globalOrder(epoch: 3))
        #expect(a.globalOrder(epoch: 3) != a.globalOrder(epoch: 4))
        #expect(a.globalOrder(epoch: 3).sorted() == Array(0..<100))
        #expect(
            DistributedSampler(count: 5, rank: 0, worldSize: 1, shuffle: false).indices(epoch: 9) == [0, 1, 2, 3, 4])
    }
}
