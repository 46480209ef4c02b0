import Collective
import Optim
import NN

/// Data parallelism for one model replica per rank, as PyTorch's DistributedDataParallel.
///
/// At start it checks that every rank runs the same configuration, world layout and
/// parameter layout (aborting with the rank and the difference otherwise), then broadcasts
/// rank 0's parameters and buffers. During backward each parameter's gradient-ready hook
/// feeds the `GradientReducer`, whose buckets are averaged on a communication thread while
/// backward continues; `finishGradients()` waits for the last of them.
///
/// With `shardOptimizer` (ZeRO stage 1, DeepSpeed's `zero_optimization.stage: 1`) each rank
/// receives the summed gradients of its own block of every bucket only, its optimizer updates
/// that block (`shard(_:)`), and `gatherParameters()` then gives every rank the whole model.
/// Each parameter has one owner, so the replicas stay bit-identical.
///
/// When every rank runs on one node (and the optimizer is not sharded, and gradients travel
/// in fp32), the gradient arena moves into memory all of them map, and buckets are summed
/// there by loads and stores (`SharedMemoryAllreduce`) instead of by `MPI_Allreduce`.
public final class DistributedDataParallel {
    public let communicator: Communicator
    public let arena: ParameterArena
    public let reducer: GradientReducer
    /// Why the gradients go through MPI although every rank runs on this node: shared memory
    /// could not be set up (nil when it was, when it was not asked for or does not apply).
    public let sharedMemoryUnavailable: String?

    /// - Parameters:
    ///   - model: the replica; its parameters must already live in `arena`.
    ///   - arena: `model.flattenParameters()`.
    ///   - communicator: the world.
    ///   - configHash: a digest of the resolved configuration; ranks must agree on it.
    ///   - bucketBytes: the size of the gradient buckets (see `GradientReducer`).
    ///   - firstBucketBytes: the size of the first, smaller bucket.
    ///   - wire: the type gradients travel in.
    ///   - shardOptimizer: split the update over the ranks (ignored on one rank).
    ///   - sharedMemory: sum gradients through shared memory when every rank runs on this
    ///     node (`distributed.shared_memory`); the arena's gradients move there.
    public init(
        model: any Module, arena: ParameterArena, communicator: Communicator, configHash: String,
        bucketBytes: Int = 25 << 20, firstBucketBytes: Int = 1 << 20, wire: DType = .float32,
        shardOptimizer: Bool = false, sharedMemory: Bool = true
    ) {
        self.communicator = communicator
        self.arena = arena
        Self.checkConsistency(model: model, arena: arena, communicator: communicator, configHash: configHash)
        communicator.broadcast(arena.values, root: 0)
        // Frozen parameters live outside the arena: they come from rank 0 as the buffers do.
        for (_, tensor) in Self.frozenParameters(model: model, arena: arena) {
            communicator.broadcast(tensor.data, root: 0)
        }
        for (_, buffer) in model.namedBuffers() { communicator.broadcast(buffer.value, root: 0) }
        let sharded = shardOptimizer && communicator.size > 1
        var shared: SharedMemoryAllreduce?
        var unavailable: String?
        // Every condition is the same on every rank (the configuration hash agrees), so all
        // ranks take the same path.
        if sharedMemory && SharedMemoryAllreduce.applies(to: communicator) && !sharded && wire == .float32 {
            do {
                shared = try SharedMemoryAllreduce(communicator: communicator, count: arena.capacity)
                arena.moveGradients(to: shared!.makeStorage())
            } catch {
                unavailable = "\(error)"
            }
        }
        sharedMemoryUnavailable = unavailable
        reducer = GradientReducer(
            communicator: communicator, gradients: arena.grads,
            parameters: arena.entries.map { .init(offset: $0.offset, count: $0.count) },
            bucketBytes: bucketBytes, firstBucketBytes: firstBucketBytes, wire: wire,
            scalesAfterSum: false, sharded: sharded, sharedMemory: shared)
        for (i, tensor) in arena.tensors.enumerated() {
            tensor.onGradientReady = { [reducer] _ in reducer.markReady(i) }
        }
    }

    /// Whether this backward's gradients are averaged (false for all but the last
    /// micro-batch of an accumulation, as DDP's `no_sync`).
    public var synchronize: Bool {
        get { reducer.synchronize }
        set { reducer.synchronize = newValue }
    }

    /// Waits until every gradient is summed over the ranks and folds the 1/world of the mean
    /// into `arena.gradientScale` (applied by the optimizer's own pass); call after backward.
    @discardableResult
    public func finishGradients() -> GradientReducer.StepTiming {
        let timing = reducer.finish()
        if synchronize { arena.gradientScale /= Float(communicator.size) }
        return timing
    }

    /// Whether each rank updates only its shard of the parameters.
    public var sharded: Bool { reducer.sharded }

    /// Limits `optimizer` to this rank's shard when sharded; call once, after creating it.
    public func shard(_ optimizer: Optimizer) {
        if sharded { optimizer.restrictUpdates(to: reducer.ownedRanges) }
    }

    /// The global L2 norm of the averaged gradients (with `arena.gradientScale`), the same on
    /// every rank; non-finite if any gradient is. Sharded, each rank sums the squares of the
    /// block it holds and the ranks add their sums (one allreduce of a Double).
    public func gradientNorm() -> Double {
        guard sharded else { return GradientClipping.globalNorm(arena) }
        let mine = GradientClipping.sumOfSquares(arena, in: reducer.ownedRanges)
        return communicator.allreduce([mine])[0].squareRoot() * Double(abs(arena.gradientScale))
    }

    /// Gives every rank the parameters the other ranks updated; call after the optimizer's step.
    public func gatherParameters() { reducer.allgather(arena.values) }

    /// Gives every rank the whole averaged gradient (for histograms); sharded, each rank holds
    /// only its block after `finishGradients()`.
    public func gatherGradients() { reducer.allgather(arena.grads) }

    /// The optimizer's whole state, as a checkpoint saves it. Sharded, each rank holds only its
    /// block of the moments and buffers; these are allgathered (every rank must call this at
    /// the same point), so rank 0 can write all of it. Unsharded, the optimizer's own arrays.
    public func gatherState(of optimizer: Optimizer) -> [String: NDArray] {
        let state = optimizer.state
        guard sharded else { return state }
        // Moments and buffers come in the arena's layout; scalars (Adam's step) agree already.
        for (_, array) in state.sorted(by: { $0.key < $1.key })
        where array.dtype == .float32 && array.count == arena.capacity {
            reducer.allgather(array)
        }
        return state
    }

    /// Stops the communication thread.
    public func shutdown() {
        for t in arena.tensors { t.onGradientReady = nil }
        reducer.shutdown()
    }

    /// The model's parameters that are not in `arena` (`training.freeze`), in model order.
    static func frozenParameters(model: any Module, arena: ParameterArena) -> [(String, Tensor)] {
        let trained = Set(arena.entries.map(\.name))
        return model.namedParameters().filter { !trained.contains($0.0) }
    }

    /// One line per fact the ranks must agree on.
    static func description(model: any Module, arena: ParameterArena, communicator: Communicator, configHash: String)
        -> [String]
    {
        [
            "config hash \(configHash)", "world size \(communicator.size)",
            "buffers \(model.namedBuffers().map { "\($0.0) \($0.1.value.shape)" }.joined(separator: ", "))",
        ]
            + arena.entries.map { "parameter \($0.name) \($0.shape)" }
            + frozenParameters(model: model, arena: arena).map { "frozen parameter \($0.0) \($0.1.shape)" }
    }

    /// Aborts the job, naming the first difference, unless every rank matches rank 0.
    static func checkConsistency(
        model: any Module, arena: ParameterArena, communicator: Communicator, configHash: String
    ) {
        let mine = description(model: model, arena: arena, communicator: communicator, configHash: configHash)
        let all = communicator.allgather(mine.joined(separator: "\n"))
        let reference = all[0].split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (r, text) in all.enumerated().dropFirst() {
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if lines == reference { continue }
            let common = min(lines.count, reference.count)
            let i = (0..<common).first { lines[$0] != reference[$0] } ?? common
            let theirs = i < lines.count ? lines[i] : "nothing (\(lines.count) entries)"
            let ours = i < reference.count ? reference[i] : "nothing (\(reference.count) entries)"
            // Every rank sees the same gathered text, so rank 0 reports and all ranks stop.
            let message =
                "rank \(r) does not match rank 0: rank \(r) has \(theirs), rank 0 has \(ours). "
                + "Start every rank with the same configuration and code."
            if communicator.rank == 0 { communicator.abort(message) }
            communicator.barrier()
            communicator.abort(message)
        }
    }
}
