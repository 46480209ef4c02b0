/// How a global batch is split: samples per micro-batch on each rank, ranks, and micro-batches
/// per optimizer step (`data.batch_size` x ranks x `distributed.gradient_accumulation`).
public struct BatchLayout: Equatable, Sendable, CustomStringConvertible {
    public var batchSize: Int, ranks: Int, accumulation: Int

    public init(batchSize: Int, ranks: Int, accumulation: Int) {
        (self.batchSize, self.ranks, self.accumulation) = (batchSize, ranks, accumulation)
    }

    /// Samples per optimizer step over all ranks.
    public var globalBatch: Int { batchSize * ranks * accumulation }

    public var description: String {
        "\(ranks) rank\(ranks == 1 ? "" : "s") x batch \(batchSize) x accumulation \(accumulation) = global batch \(globalBatch)"
    }

    /// The layout on `configured.ranks` ranks whose global batch is `globalBatch`, changing as
    /// little of `configured` as it can, or nil when the global batch does not divide over them.
    ///
    /// In order: the configured layout when it already fits; the configured per-rank batch with
    /// more or fewer micro-batches; the configured micro-batches with another per-rank batch; and
    /// otherwise the fewest micro-batches whose per-rank batch is no larger than the configured one.
    /// - Parameters:
    ///   - globalBatch: samples per optimizer step to keep.
    ///   - configured: the per-rank batch and accumulation of the config, on the new world size.
    public static func keeping(_ globalBatch: Int, from configured: BatchLayout) -> BatchLayout? {
        let ranks = configured.ranks
        guard globalBatch > 0, globalBatch % ranks == 0 else { return nil }
        if configured.globalBatch == globalBatch { return configured }
        let perRank = globalBatch / ranks
        if perRank % configured.batchSize == 0 {
            return BatchLayout(
                batchSize: configured.batchSize, ranks: ranks, accumulation: perRank / configured.batchSize)
        }
        if perRank % configured.accumulation == 0 {
            return BatchLayout(
                batchSize: perRank / configured.accumulation, ranks: ranks, accumulation: configured.accumulation)
        }
        let accumulation = (1...perRank).first { perRank % $0 == 0 && perRank / $0 <= configured.batchSize } ?? perRank
        return BatchLayout(batchSize: perRank / accumulation, ranks: ranks, accumulation: accumulation)
    }

    /// World sizes from 1 to `limit` over which `globalBatch` divides.
    public static func worldSizes(dividing globalBatch: Int, upTo limit: Int = 16) -> [Int] {
        (1...max(limit, 1)).filter { globalBatch % $0 == 0 }
    }
}
