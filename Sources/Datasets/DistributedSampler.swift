import TensorCore

/// Which samples each rank reads in an epoch, as torch.utils.data.DistributedSampler.
///
/// Every rank shuffles the same index list with seed + epoch (so the order changes every
/// epoch and agrees across ranks), pads it by repeating indices from the front until it
/// divides by the world size (or drops the tail with `dropLast`), and takes every
/// world-th index starting at its rank.
public struct DistributedSampler: Sendable, Equatable {
    public let count: Int
    public let rank: Int
    public let worldSize: Int
    public let shuffle: Bool
    public let seed: UInt64
    public let dropLast: Bool
    /// Deterministic mode's layout (0: off): every global batch is `shards` micro-shards of
    /// `shardSize` consecutive samples of the global order, and rank r takes shards
    /// r·k ..< (r+1)·k with k = shards / world. A sample's shard, and its place in it, never
    /// depend on the world size.
    public let shardSize: Int, shards: Int

    /// - Parameters:
    ///   - count: samples in the dataset.
    ///   - rank: this process, in 0..<worldSize.
    ///   - worldSize: the number of processes.
    ///   - shuffle: a new order each epoch, drawn from the seed and the epoch (false: 0, 1, 2, ...).
    ///   - seed: the shuffle's seed, the same on every rank.
    ///   - dropLast: drop the tail that would not fill every rank (false: repeat indices from the front).
    ///   - microShards: deterministic mode's (shard size, shards per global batch); nil: strided.
    public init(
        count: Int, rank: Int, worldSize: Int, shuffle: Bool = true, seed: UInt64 = 0, dropLast: Bool = false,
        microShards: (size: Int, count: Int)? = nil
    ) {
        precondition(count > 0, "the dataset is empty")
        precondition(worldSize >= 1 && rank >= 0 && rank < worldSize, "rank \(rank) is outside a world of \(worldSize)")
        precondition(
            !dropLast || count >= worldSize, "drop_last with \(count) samples leaves nothing for \(worldSize) ranks")
        (self.count, self.rank, self.worldSize, self.shuffle, self.seed, self.dropLast) = (
            count, rank, worldSize, shuffle, seed, dropLast
        )
        (shardSize, shards) = microShards ?? (0, 0)
        precondition(shards % worldSize == 0, "\(shards) micro-shards do not divide over \(worldSize) ranks")
        precondition(!dropLast || shards == 0 || count >= shardSize * shards, "drop_last leaves no whole global batch")
    }

    /// Samples per global batch in deterministic mode.
    var globalBatch: Int { shardSize * shards }

    /// Samples per rank per epoch: ceil(count / world), or floor with drop_last. With micro-shards,
    /// whole global batches: the last one is padded (or dropped), the same for every world size.
    public var samplesPerRank: Int {
        if shards > 0 {
            let batches = dropLast ? count / globalBatch : (count + globalBatch - 1) / globalBatch
            return batches * globalBatch / worldSize
        }
        return dropLast ? count / worldSize : (count + worldSize - 1) / worldSize
    }

    /// The whole epoch's order before it is split across ranks (a Fisher-Yates shuffle driven
    /// by Philox with key seed + epoch, so every rank computes the same permutation).
    public func globalOrder(epoch: Int) -> [Int] {
        var order = Array(0..<count)
        if shuffle {
            let key = seed &+ UInt64(epoch)
            for i in stride(from: count - 1, to: 0, by: -1) {
                let bits = PhiloxRNG.block(seed: key, counter: UInt64(i))
                let r = (UInt64(bits[0]) << 32 | UInt64(bits[1])) % UInt64(i + 1)
                order.swapAt(i, Int(r))
            }
        }
        let total = samplesPerRank * worldSize
        if total > count {
            var k = 0
            while order.count < total { order.append(order[k % count]); k += 1 }
        } else {
            order.removeLast(count - total)
        }
        return order
    }

    /// This rank's indices for `epoch`, from global position `position` on.
    ///
    /// The position counts samples of the epoch's global order already consumed by all
    /// ranks together, so a run resumed on a different number of ranks carries on from the
    /// same sample (rank r takes every world-th index of the rest). When the rest does not
    /// divide by the world size (a position written by another world size), it is padded from
    /// its own front, so every rank gets `remainingPerRank(from:)` indices and none runs out
    /// of batches before the others.
    /// - Parameters:
    ///   - epoch: the epoch (the shuffle's key is seed + epoch).
    ///   - position: samples of the global order already trained on (0 at the epoch's start).
    public func indices(epoch: Int, from position: Int = 0) -> [Int] {
        let order = globalOrder(epoch: epoch)
        if shards > 0 {
            // This rank's contiguous run of shards from each remaining global batch.
            let mine = globalBatch / worldSize
            return stride(from: position, to: order.count, by: globalBatch).flatMap {
                order[($0 + rank * mine)..<($0 + (rank + 1) * mine)]
            }
        }
        var rest = Array(order[min(position, order.count)...])
        let padded = remainingPerRank(from: position) * worldSize
        var k = 0
        while rest.count < padded { rest.append(rest[k]); k += 1 }
        return Array(stride(from: rank, to: rest.count, by: worldSize).map { rest[$0] })
    }

    /// Samples each rank trains on in the rest of an epoch, from global position `position`.
    public func remainingPerRank(from position: Int) -> Int {
        let rest = max(samplesPerRank * worldSize - position, 0)
        if shards > 0 { return (rest + globalBatch - 1) / globalBatch * (globalBatch / worldSize) }
        return (rest + worldSize - 1) / worldSize
    }
}
