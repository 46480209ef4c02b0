import TensorCore

/// Sums micro-shard gradients over all ranks so that the result is bit-identical whatever
/// the world size (deterministic mode).
///
/// Floating-point addition is not associative, so an allreduce of fp32 sums gives results
/// that depend on how the shards were split over ranks and on MPI's reduction order. Here
/// each shard's gradient is turned into 64-bit fixed point with an exponent per tensor that
/// all ranks agree on (from a max-allreduce of the largest magnitude), the integers are
/// added (exact, so in any order), and the total is turned back into fp32 once.
///
/// Only the integers must be summed exactly, so they travel once, as a reduce-scatter: each
/// rank decodes its own block of the totals and the ranks swap the fp32 blocks. That moves
/// 1.5x the bytes of an fp32 allreduce instead of the 2x of an int64 one, and each rank
/// decodes 1/size of the values.
///
/// A shard's integers depend only on its own gradient and the agreed exponent, and both are
/// the same whichever rank computed the shard; so is the integer sum, and so the result.
public final class FixedPointReducer {
    public let communicator: Communicator
    /// Ranges of the flat gradient buffer that get an exponent each (one per parameter).
    public let segments: [Range<Int>]
    /// Micro-shards per step over all ranks, and on this rank.
    public let globalShards: Int, localShards: Int
    private let capacity: Int
    /// This rank's shard gradients but the last, one row each, kept until every shard of the
    /// step is done. The last shard stays in the gradient buffer, which saves copying it.
    private let stash: NDArray
    private var stashed = 0
    /// Each segment's largest magnitude over the shards added so far (NaN: non-finite values).
    private var largest: [Float]
    private let sums: UnsafeMutablePointer<Int64>
    /// Each rank's block of the gradient buffer in the reduce-scatter and the allgather.
    private let blocks: [Range<Int>]

    /// - Parameters:
    ///   - communicator: the world the gradients are summed over.
    ///   - segments: the parameters' ranges in the gradient buffer (padding between them stays zero).
    ///   - capacity: length of the gradient buffer.
    ///   - globalShards: micro-shards per step over all ranks (the divisor of the mean).
    ///   - localShards: micro-shards per step on this rank.
    public init(communicator: Communicator, segments: [Range<Int>], capacity: Int, globalShards: Int, localShards: Int)
    {
        precondition(
            globalShards == localShards * communicator.size,
            "\(globalShards) shards do not split into \(communicator.size) x \(localShards)")
        self.communicator = communicator
        self.segments = segments
        self.capacity = capacity
        self.globalShards = globalShards
        self.localShards = localShards
        stash = NDArray(shape: [localShards - 1, capacity])
        sums = .allocate(capacity: capacity)
        sums.initialize(repeating: 0, count: capacity)  // the padding between segments stays zero
        largest = [Float](repeating: 0, count: segments.count)
        blocks = communicator.blocks(count: capacity)
    }

    deinit { sums.deallocate() }

    /// Takes one shard's gradient, in shard order. Every shard but the last moves out of
    /// `gradients` (leaving zeros for the next shard's backward); the last stays there, and
    /// `reduce` must get the same buffer.
    public func add(_ gradients: NDArray) {
        precondition(stashed < localShards, "more than \(localShards) shards in one step")
        let last = stashed == localShards - 1
        let row = stash.ptr + stashed * capacity
        for (t, range) in segments.enumerated() {
            let g = gradients.ptr + range.lowerBound
            let m =
                last
                ? FixedPoint.largestMagnitude(g, range.count)
                : FixedPoint.move(g, to: row + range.lowerBound, range.count)
            largest[t] = m.isNaN || largest[t].isNaN ? .nan : max(largest[t], m)
        }
        stashed += 1
    }

    /// Replaces the last shard's gradient in `gradients` by the mean over every rank's
    /// shards: Σ shards / globalShards.
    ///
    /// A non-finite value anywhere makes that parameter's result NaN on every rank, so the
    /// caller's finiteness check skips (or stops at) the same step everywhere.
    public func reduce(into gradients: NDArray) {
        precondition(stashed == localShards, "\(stashed) of \(localShards) shards were added")
        stashed = 0
        let (stash, sums, capacity, segments, stashedRows) = (stash, sums, capacity, segments, localShards - 1)
        // 1. The largest magnitude of each parameter over every shard of every rank.
        let largest = communicator.allreduce(self.largest.map { $0.isNaN ? .infinity : Double($0) }, op: .max)
        for t in self.largest.indices { self.largest[t] = 0 }
        // 2. Each shard in fixed point with the parameter's shared exponent, summed exactly:
        //    the last shard (still in `gradients`) writes the sums, the stashed ones add to them.
        let exponents = largest.map { FixedPoint.exponent(largest: $0, terms: globalShards) }
        ThreadPool.shared.parallelFor(segments.count) { ts in
            for t in ts {
                let range = segments[t], s = sums + range.lowerBound
                guard largest[t].isFinite else { s.initialize(repeating: 0, count: range.count); continue }
                FixedPoint.encode(gradients.ptr + range.lowerBound, range.count, exponent: exponents[t], into: s)
                for j in 0..<stashedRows {
                    FixedPoint.accumulate(
                        stash.ptr + j * capacity + range.lowerBound, range.count, exponent: exponents[t], into: s)
                }
            }
        }
        // 3. Integer sums are exact, so any order of additions over the ranks gives the same
        //    bits. Each rank gets the total of its own block...
        let mine = blocks[communicator.rank]
        communicator.reduceScatter(sums, blocks: blocks)
        // 4. ...turns it back into fp32, with the mean's 1/globalShards...
        for (t, range) in segments.enumerated() {
            let part = range.clamped(to: mine)
            guard !part.isEmpty else { continue }
            let g = gradients.ptr + part.lowerBound
            if largest[t].isFinite {
                FixedPoint.decode(
                    sums + part.lowerBound, part.count, exponent: exponents[t], divisor: globalShards, into: g)
            } else {
                g.initialize(repeating: .nan, count: part.count)
            }
        }
        // 5. ...and the ranks exchange the fp32 blocks: half the bytes of sending the integers back.
        communicator.allgather(gradients.ptr, blocks: blocks)
    }
}
