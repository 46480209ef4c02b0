import Dispatch

/// Batches of one rank's samples for one epoch, each gathered on a background queue while
/// the previous one trains.
public final class BatchLoader {
    public let dataset: any Dataset
    public let indices: [Int]
    public let batchSize: Int
    /// Batches in this epoch (the last one may be smaller).
    public let batchCount: Int
    /// Gather the next batch in the background (false: gather each one when asked).
    public let prefetch: Bool
    /// Batches handed out so far.
    public private(set) var position = 0
    private let queue = DispatchQueue(label: "tandem.prefetch")
    private var pending: Pending?

    private final class Pending: @unchecked Sendable {
        let group = DispatchGroup()
        var batch: Result<Batch, Error>?
    }

    /// - Parameters:
    ///   - dataset: where samples come from.
    ///   - indices: this rank's samples in order (`DistributedSampler.indices(epoch:)`).
    ///   - batchSize: samples per batch on this rank.
    ///   - startBatch: the first batch to produce (to resume mid-epoch).
    ///   - prefetch: gather the next batch on a background queue.
    public init(dataset: any Dataset, indices: [Int], batchSize: Int, startBatch: Int = 0, prefetch: Bool = true) {
        precondition(batchSize >= 1, "batch size must be at least 1")
        (self.dataset, self.indices, self.batchSize, self.prefetch) = (dataset, indices, batchSize, prefetch)
        batchCount = (indices.count + batchSize - 1) / batchSize
        position = min(startBatch, batchCount)
    }

    private func start(_ k: Int) -> Pending {
        let p = Pending(), dataset = dataset
        let slice = indices[(k * batchSize)..<min((k + 1) * batchSize, indices.count)]
        if prefetch {
            queue.async(group: p.group) { p.batch = Result { try dataset.loadBatch(slice) } }
        } else {
            p.batch = Result { try dataset.loadBatch(slice) }
        }
        return p
    }

    /// The next batch, or nil at the end of the epoch; starts gathering the one after.
    /// - Throws: the dataset's error for a sample it could not read (a damaged image file).
    public func nextBatch() throws -> Batch? {
        guard position < batchCount else { return nil }
        let current = pending ?? start(position)
        position += 1
        pending = prefetch && position < batchCount ? start(position) : nil
        current.group.wait()
        return try current.batch?.get()
    }

    /// The next batch, or nil at the end of the epoch; a sample that cannot be read goes to
    /// `DatasetFailure.handler`, which ends the process with the error in words.
    public func next() -> Batch? {
        do { return try nextBatch() } catch { DatasetFailure.report(error) }
    }
}
