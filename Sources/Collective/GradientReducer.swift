#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import TensorCore

/// Averages gradients across ranks bucket by bucket, overlapping backward.
///
/// Buckets are fixed slices of the flat gradient arena, made in reverse registration order
/// (the order backward finishes gradients), the first one small so communication starts
/// early. When the last gradient of a bucket is final, backward calls `markReady`; a
/// persistent communication thread allreduces buckets strictly in index order, so every rank
/// issues the same collectives in the same sequence whatever order its gradients finish in.
/// The last bucket, which backward completes at its end, is left to `finish` on the caller.
/// With `scalesAfterSum` each bucket is then multiplied by 1/world; without it the arena
/// holds sums and the caller folds 1/world into the factor its optimizer applies anyway
/// (what `DistributedDataParallel` does, saving a pass over the gradients).
///
/// Sharded (ZeRO stage 1), each bucket is reduce-scattered instead: every rank ends with the
/// sum of one block of each bucket, `ownedRanges`, which is all its optimizer updates, and
/// `allgather` then hands every rank the blocks the others updated. The bytes on the wire are
/// an allreduce's (a ring allreduce is a reduce-scatter and an allgather), but each rank
/// adds, clips and updates 1/world of the parameters.
///
/// When the gradients live in a `SharedMemoryAllreduce`'s array (every rank on one node),
/// unsharded fp32 buckets are summed through it rather than by `MPI_Allreduce`.
public final class GradientReducer: @unchecked Sendable {
    /// A parameter's gradient inside the arena, in elements.
    public struct Slice: Sendable, Equatable {
        public let offset: Int, count: Int
        public init(offset: Int, count: Int) { self.offset = offset; self.count = count }
    }

    /// A contiguous range of the arena reduced by one allreduce.
    public struct Bucket: Sendable, Equatable {
        public let range: Range<Int>
        /// Indices (registration order) of the parameters whose gradients it holds.
        public let parameters: [Int]
    }

    /// When the communication of one step happened, in seconds on the monotonic clock.
    public struct StepTiming: Sendable {
        /// When each bucket's last gradient became final (backward's side of the overlap).
        public var bucketReady: [Double] = []
        /// When each bucket's allreduce began on the communication thread (the OS's side:
        /// on busy cores the thread may wait for one).
        public var bucketStarts: [Double] = []
        public var bucketEnds: [Double] = []
        /// Time `finish` spent waiting for communication after backward ended.
        public var exposedSeconds: Double = 0
    }

    public let communicator: Communicator
    public let buckets: [Bucket]
    /// 16-bit formats send half the bytes; sums are still formed in fp32 (see `allreduceHalf`).
    public let wire: DType
    /// When false (micro-batches before the last one), `markReady` does nothing and the
    /// gradients keep accumulating locally, as DDP's `no_sync`.
    public var synchronize = true
    /// Multiply each bucket by 1/world after its sum (true), or leave sums for the caller.
    public let scalesAfterSum: Bool
    /// Whether buckets are reduce-scattered (the optimizer is sharded) rather than allreduced.
    public let sharded: Bool
    /// Each bucket's blocks, one per rank, relative to the bucket's start (`Communicator.blocks`).
    public let blocks: [[Range<Int>]]
    /// The arena elements whose summed gradients this rank holds after `finish` when sharded
    /// (its block of every bucket, in arena order); the whole of every bucket otherwise.
    public let ownedRanges: [Range<Int>]
    public private(set) var lastTiming = StepTiming()

    private let gradients: NDArray
    private let bucketOf: [Int]
    private var pending: [Int]
    private var ready: [Bool]
    /// Buckets below `next` are reduced; bucket `next` is being reduced when `claimed > next`.
    private var next = 0, claimed = 0
    private var timing = StepTiming()
    private var stopping = false
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var thread = pthread_t()
    private let wireBuffer: NDArray?
    /// Sums the buckets when the gradients live in its array.
    public let sharedMemory: SharedMemoryAllreduce?

    /// - Parameters:
    ///   - communicator: the group to average over.
    ///   - gradients: the flat float32 gradient arena.
    ///   - parameters: each parameter's slice of it, in registration order.
    ///   - bucketBytes: target size of a bucket (DDP's 25 MiB).
    ///   - firstBucketBytes: size of the first bucket, reduced while backward is still young (1 MiB).
    ///   - wire: float32, or float16/bfloat16 to send half the bytes.
    ///   - scalesAfterSum: turn each bucket's sum into the mean here (see the type's comment).
    ///   - sharded: reduce-scatter each bucket for a sharded optimizer (see the type's comment).
    ///   - sharedMemory: the shared arrays `gradients` lives in (this rank's), to sum through
    ///     them; only for an unsharded float32 wire.
    public init(
        communicator: Communicator, gradients: NDArray, parameters: [Slice],
        bucketBytes: Int = 25 << 20, firstBucketBytes: Int = 1 << 20, wire: DType = .float32,
        scalesAfterSum: Bool = true, sharded: Bool = false, sharedMemory: SharedMemoryAllreduce? = nil
    ) {
        precondition(
            sharedMemory.map { !sharded && wire == .float32 && $0.holds(gradients) } ?? true,
            "gradients are summed through shared memory only unsharded, in float32, and only when they live in its array"
        )
        self.sharedMemory = sharedMemory
        self.scalesAfterSum = scalesAfterSum
        self.sharded = sharded
        precondition(wire != .int32, "gradients travel as float32, float16 or bfloat16, not \(wire)")
        precondition(bucketBytes > 0 && firstBucketBytes > 0, "bucket sizes must be positive")
        self.communicator = communicator
        self.gradients = gradients
        self.wire = wire
        var buckets: [Bucket] = [], current: [Int] = [], bytes = 0
        for index in parameters.indices.reversed() {
            current.append(index)
            bytes += parameters[index].count * wire.byteSize
            if bytes >= (buckets.isEmpty ? firstBucketBytes : bucketBytes) {
                buckets.append(Self.bucket(current, parameters)); current = []; bytes = 0
            }
        }
        if !current.isEmpty { buckets.append(Self.bucket(current, parameters)) }
        self.buckets = buckets
        blocks = buckets.map { communicator.blocks(count: $0.range.count) }
        ownedRanges = zip(buckets, blocks).compactMap { bucket, blocks in
            let mine = sharded ? blocks[communicator.rank] : 0..<bucket.range.count
            return mine.isEmpty
                ? nil : (bucket.range.lowerBound + mine.lowerBound)..<(bucket.range.lowerBound + mine.upperBound)
        }.sorted { $0.lowerBound < $1.lowerBound }
        var owner = [Int](repeating: 0, count: parameters.count)
        for (b, bucket) in buckets.enumerated() { for p in bucket.parameters { owner[p] = b } }
        bucketOf = owner
        pending = buckets.map(\.parameters.count)
        ready = [Bool](repeating: false, count: buckets.count)
        wireBuffer =
            wire == .float32
            ? nil
            : NDArray(shape: [buckets.map(\.range.count).max() ?? 0], dtype: wire)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
        let box = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(
            &thread, nil,
            { arg in
                let reducer = Unmanaged<GradientReducer>.fromOpaque(arg!).takeRetainedValue()
                reducer.communicationLoop()
                return nil
            }, box)
        precondition(rc == 0, "could not start the communication thread: error \(rc)")
    }

    private static func bucket(_ members: [Int], _ parameters: [Slice]) -> Bucket {
        let lo = members.map { parameters[$0].offset }.min()!
        let hi = members.map { parameters[$0].offset + parameters[$0].count }.max()!
        return Bucket(range: lo..<hi, parameters: members)
    }

    /// Stops the communication thread. Call once, after the last step.
    public func shutdown() {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_broadcast(cond)
        pthread_mutex_unlock(mutex)
        pthread_join(thread, nil)
    }

    /// Backward finished the gradient of parameter `index` (registration order).
    public func markReady(_ index: Int) {
        // Alone there is nothing to send; `finish` still records the step.
        guard synchronize, communicator.size > 1 else { return }
        pthread_mutex_lock(mutex)
        let b = bucketOf[index]
        pending[b] -= 1
        if pending[b] == 0 {
            ready[b] = true
            timing.bucketReady.append(Self.now())
            // The last bucket holds the first parameters, whose gradients backward finishes
            // last: nothing is left to overlap it with, so `finish` reduces it on this thread
            // rather than pay for handing it to the communication thread and back.
            if b < buckets.count - 1 { pthread_cond_broadcast(cond) }
        }
        pthread_mutex_unlock(mutex)
    }

    /// Waits until every bucket is averaged; buckets whose parameters received no gradient
    /// this step (unused parameters) are reduced too, so every rank makes the same calls.
    ///
    /// Buckets the communication thread has not claimed yet are reduced here, on the caller's
    /// thread: backward is over, so handing them to the other thread would only add a wake-up
    /// (measured at 20-35 µs a step) to the exposed time.
    /// - Returns: the step's communication timing.
    @discardableResult
    public func finish() -> StepTiming {
        // A micro-batch that does not synchronise communicates nothing, not even at the end.
        guard synchronize else { return StepTiming() }
        // Alone there is nothing to reduce; the communication thread is never woken.
        guard communicator.size > 1 else { lastTiming = StepTiming(); return lastTiming }
        let start = Self.now()
        pthread_mutex_lock(mutex)
        for b in buckets.indices where !ready[b] { ready[b] = true; pending[b] = 0 }
        while next < buckets.count {
            if claimed > next { pthread_cond_wait(cond, mutex); continue }
            reduceNext(wakingWaiters: false)
        }
        timing.exposedSeconds = Self.now() - start
        lastTiming = timing
        timing = StepTiming()
        next = 0
        claimed = 0
        pending = buckets.map(\.parameters.count)
        ready = [Bool](repeating: false, count: buckets.count)
        pthread_mutex_unlock(mutex)
        return lastTiming
    }

    private func communicationLoop() {
        pthread_mutex_lock(mutex)
        while true {
            while !stopping && !(claimed == next && next < buckets.count && ready[next]) {
                pthread_cond_wait(cond, mutex)
            }
            if stopping { break }
            reduceNext(wakingWaiters: true)
        }
        pthread_mutex_unlock(mutex)
    }

    /// Claims bucket `next`, reduces it with the mutex released, and publishes it. Buckets
    /// go strictly in index order and one at a time, whichever thread runs them, so every
    /// rank issues the same collectives in the same sequence. Called with the mutex held.
    /// - Parameter wakingWaiters: wake `finish`, which may be waiting for this bucket (true on
    ///   the communication thread). `finish`'s own buckets wake nobody: a needless wake-up of
    ///   the communication thread cost 15-20 µs a step (timed in a temporary build of
    ///   `tandem-bench allreduce`, docs/BENCHMARKS.md).
    private func reduceNext(wakingWaiters: Bool) {
        let b = next
        claimed = b + 1
        pthread_mutex_unlock(mutex)
        let started = Self.now()
        reduce(b)
        let ended = Self.now()
        pthread_mutex_lock(mutex)
        timing.bucketStarts.append(started)
        timing.bucketEnds.append(ended)
        next += 1
        if wakingWaiters { pthread_cond_broadcast(cond) }
    }

    /// Sums bucket `b` over the ranks (all of it, or this rank's block when sharded), then
    /// (with `scalesAfterSum`) scales that sum to the mean.
    private func reduce(_ b: Int) {
        let p = gradients.ptr + buckets[b].range.lowerBound, n = buckets[b].range.count
        let mine = sharded ? blocks[b][communicator.rank] : 0..<n
        switch (wireBuffer, sharded) {
        case (let wireBuffer?, false):
            HalfCast.narrow(p, wireBuffer.halfBits, n, wire)
            communicator.allreduceHalf(wireBuffer.halfBits, count: n, dtype: wire)
            HalfCast.widen(wireBuffer.halfBits, p, n, wire)
        case (let wireBuffer?, true):
            HalfCast.narrow(p, wireBuffer.halfBits, n, wire)
            communicator.reduceScatterHalf(wireBuffer.halfBits, blocks: blocks[b], dtype: wire)
            HalfCast.widen(wireBuffer.halfBits + mine.lowerBound, p + mine.lowerBound, mine.count, wire)
        case (nil, false):
            if let sharedMemory {
                sharedMemory.allreduce(buckets[b].range, blocks: blocks[b])
            } else {
                communicator.allreduce(p, count: n, op: .sum)
            }
        case (nil, true):
            communicator.reduceScatter(p, blocks: blocks[b])
        }
        let scale = 1 / Float(communicator.size)
        if scalesAfterSum && communicator.size > 1 { for i in mine { p[i] *= scale } }
    }

    /// Hands every rank the blocks the other ranks own, bucket by bucket: after a sharded
    /// step each rank has updated only `ownedRanges` of the parameters (or of an optimizer's
    /// state), and this makes the whole array equal on every rank. A no-op unless sharded.
    /// - Parameter array: float32 values with the gradient arena's layout.
    public func allgather(_ array: NDArray) {
        precondition(
            array.dtype == .float32 && array.count == gradients.count,
            "allgather needs a float32 array of the arena's layout")
        guard sharded, communicator.size > 1 else { return }
        for (bucket, blocks) in zip(buckets, blocks) {
            communicator.allgather(array.ptr + bucket.range.lowerBound, blocks: blocks)
        }
    }

    /// Seconds on the monotonic clock.
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}
