import ArgumentParser
import Foundation
import Collective
import Optim
import NN
import Training

/// Scenarios run under mpirun by Tests/CollectiveTests: each prints what the test checks.
struct MPICheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tandem-mpi-check",
        abstract: "Data-parallel scenarios for the MPI integration tests (run under mpirun).")

    @Argument(
        help: ArgumentHelp(
            "equivalence | overlap | overflow | mismatch-shape | mismatch-config | die | stall "
                + "| loop | startup | reduce-scatter | shared-memory | library-train"))
    var scenario: String
    @Option(help: "Training steps.") var steps = 3
    @Option(help: "Samples per step over all ranks.") var globalBatch = 24
    @Option(help: "Micro-batches per step (gradients synchronised on the last only).") var accumulate = 1
    @Option(help: "Gradient wire format: float32, float16 or bfloat16.") var wire = "float32"
    @Option(help: "Clip the averaged gradients' global norm to this.") var maxNorm: Float = 1
    @Option(help: "equivalence: sgd (momentum 0.9) or adam.") var optimizer = "sgd"
    @Flag(help: "Shard the optimizer over the ranks (ZeRO stage 1).") var shardOptimizer = false
    @Option(help: "Sum gradients through shared memory when every rank runs on this node.") var sharedMemory = true
    @Option(help: "stall: seconds the last rank sleeps before the collective.") var stallSleep = 3.0
    @Flag(help: "stall: in the shared-memory allreduce rather than MPI's.") var stallInSharedMemory = false
    @Option(help: "stall, loop: seconds of waiting before the missing ranks are named.") var stallWarning = 1.0
    @Option(help: "stall, loop: seconds of waiting before the job is ended (0: never).") var stallAbort = 0.0
    @Option(help: "loop: seconds of back-to-back allreduces, watched for stalls.") var seconds = 30.0
    @Option(help: "startup: seconds the last rank waits before MPI_Init.") var startupDelay = 60.0
    @Option(help: "startup: seconds the start may take.") var startupTimeout = 5.0
    @Option(help: "library-train: the YAML config.") var config = ""
    @Option(help: "library-train: the run directory.") var runDir = ""
    @Option(name: .customLong("set"), parsing: .singleValue, help: "library-train: a config override.")
    var overrides: [String] = []

    func run() throws {
        let env = ProcessInfo.processInfo.environment
        if scenario == "startup", let r = env["OMPI_COMM_WORLD_RANK"].flatMap(Int.init),
            let n = env["OMPI_COMM_WORLD_SIZE"].flatMap(Int.init), r == n - 1
        {
            usleep(UInt32(startupDelay * 1e6))  // a rank that is late to start holds the others in MPI_Init
        }
        if scenario == "library-train" { try libraryTrain() }  // the job starts the world itself
        let comm: Communicator =
            MPICommunicator.launchedByMPI
            ? MPICommunicator(startupTimeout: scenario == "startup" ? startupTimeout : nil)
            : SingleProcessCommunicator()
        // Which network namespace each rank runs in (the multi-node test checks they differ).
        // Rank 0 prints them all: a line from another rank, forwarded by mpirun, could land in
        // the middle of rank 0's long PARAMS line and garble both.
        let ns = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net")) ?? "unknown"
        for (rank, name) in comm.allgather(ns).enumerated() where comm.rank == 0 { print("NETNS \(rank) \(name)") }
        comm.abortOnError {
            switch scenario {
            case "equivalence": try equivalence(comm)
            case "overlap": overlap(comm)
            case "overflow": overflow(comm)
            case "mismatch-shape": _ = makeDDP(comm, hidden: comm.rank == 1 ? 17 : 16, configHash: "a")
            case "mismatch-config": _ = makeDDP(comm, hidden: 16, configHash: comm.rank == comm.size - 1 ? "b" : "a")
            case "die":
                if comm.rank == 1 { throw CheckError.deliberate }
                comm.barrier()  // the other ranks wait here until rank 1's abort ends the job
            case "stall": try stall(comm)
            case "loop": loop(comm)
            case "startup":
                (comm as? MPICommunicator)?.startupFinished()
                print("STARTED \(comm.rank)")
            case "reduce-scatter": try reduceScatter(comm)
            case "shared-memory": try sharedMemoryAllreduce(comm)
            default: throw ValidationError("unknown scenario \(scenario)")
            }
        }
        comm.barrier()
        (comm as? MPICommunicator)?.finalize()
    }

    enum CheckError: Error, CustomStringConvertible {
        case deliberate
        var description: String { "rank 1 failed on purpose (die scenario)" }
    }

    /// The last rank arrives late at an allreduce (MPI's, or with `--stall-in-shared-memory`
    /// the shared-memory one); rank 0 names it.
    func stall(_ comm: Communicator) throws {
        guard let mpi = comm as? MPICommunicator else { return }
        let shared = stallInSharedMemory ? try SharedMemoryAllreduce(communicator: comm, count: 64) : nil
        let on = mpi.inspectStalls(warnAfter: stallWarning, abortAfter: stallAbort > 0 ? stallAbort : nil) { warning in
            fputs("STALL \(warning)\n", stderr)
        }
        print("INSPECTING \(on)")
        var value = [Double(comm.rank)]
        comm.barrier()
        if comm.rank == comm.size - 1 { usleep(UInt32(stallSleep * 1e6)) }
        if let shared {
            let array = NDArray(shape: [64], storage: shared.makeStorage())
            array.ptr.update(repeating: Float(comm.rank), count: 64)
            shared.allreduce(0..<64, blocks: comm.blocks(count: 64))
            value = [Double(array.ptr[63])]
        } else {
            value = comm.allreduce(value)
        }
        print("SUM \(value[0])")
    }

    /// Allreduces back to back for `seconds`, watched with the stall options, so a test can stop
    /// or cut off a rank mid-run. Rank 0 prints every rank's PID and host, then LOOPING.
    func loop(_ comm: Communicator) {
        guard let mpi = comm as? MPICommunicator else { return }
        mpi.inspectStalls(warnAfter: stallWarning, abortAfter: stallAbort > 0 ? stallAbort : nil) { warning in
            fputs("STALL rank \(comm.rank): \(warning)\n", stderr)
        }
        for (r, pid) in comm.allgather("\(getpid())").enumerated() where comm.rank == 0 {
            print("PID \(r) \(pid) \(mpi.hosts[r])")
        }
        let start = Date()
        var rounds = 0.0
        while Date().timeIntervalSince(start) < seconds {
            rounds += comm.allreduce([1.0])[0]
            if comm.rank == 0 && rounds == Double(comm.size) { print("LOOPING") }
            fflush(stdout)
            usleep(10_000)
        }
        print("SUM \(rounds)")
    }

    /// reduceScatter (int64, float, fp16 and bf16) and the in-place allgather against naive
    /// sums, on sizes that do not split evenly (and 5 values, where some ranks' blocks are empty).
    func reduceScatter(_ comm: Communicator) throws {
        // Large values too: the sums must be exact 64-bit integers, not doubles.
        func value(_ i: Int, rank: Int) -> Int64 {
            Int64(i * 31 + rank * 7) * (i % 3 == 0 ? -(1 << 40) : 1) + Int64(rank)
        }
        for count in [5, 1001, 40_000] {
            let blocks = comm.blocks(count: count)
            guard blocks.first?.lowerBound == 0, blocks.last?.upperBound == count,
                zip(blocks, blocks.dropFirst()).allSatisfy({ $0.upperBound == $1.lowerBound })
            else {
                throw ValidationError("blocks \(blocks) do not tile \(count) values")
            }
            var sums = (0..<count).map { value($0, rank: comm.rank) }
            comm.reduceScatter(&sums, blocks: blocks)
            let mine = blocks[comm.rank]
            for i in mine where sums[i] != (0..<comm.size).reduce(0, { $0 + value(i, rank: $1) }) {
                throw ValidationError("count \(count): sum \(i) is \(sums[i])")
            }
            // Multiples of 0.5 up to 15: their sums over 4 ranks are exact in fp32, fp16 and bf16 in any order.
            func float(_ i: Int, rank: Int) -> Float { Float((i * 13 + rank * 5) % 61 - 30) / 2 }
            var floatSums = (0..<count).map { float($0, rank: comm.rank) }
            comm.reduceScatter(&floatSums, blocks: blocks)
            for i in mine where floatSums[i] != (0..<comm.size).reduce(0, { $0 + float(i, rank: $1) }) {
                throw ValidationError("count \(count): float sum \(i) is \(floatSums[i])")
            }
            // 16 bits: each addition in fp32, rounded once; the same values are exact in both formats.
            for dtype in [DType.float16, .bfloat16] {
                let bits: (Float) -> UInt16 = dtype == .float16 ? HalfCast.float16Bits : HalfCast.bfloat16Bits
                var halves = (0..<count).map { bits(float($0, rank: comm.rank)) }
                comm.reduceScatterHalf(&halves, blocks: blocks, dtype: dtype)
                for i in mine where halves[i] != bits((0..<comm.size).reduce(0, { $0 + float(i, rank: $1) })) {
                    throw ValidationError("count \(count): \(dtype) sum \(i) has bits \(halves[i])")
                }
            }
            var floats = [Float](repeating: .nan, count: count)
            for i in mine { floats[i] = Float(i) + 0.5 }
            comm.allgather(&floats, blocks: blocks)
            if let i = (0..<count).first(where: { floats[$0] != Float($0) + 0.5 }) {
                throw ValidationError("count \(count): gathered value \(i) is \(floats[i])")
            }
        }
        print("REDUCE-SCATTER OK \(comm.rank)")
    }

    /// `SharedMemoryAllreduce` on its own: exact sums of ranges with odd ends and blocks of
    /// every size (empty ones too), values outside the range left alone, the same bits on every
    /// rank (and, on two ranks, MPI_Allreduce's bits), and a segment too big for /dev/shm
    /// refused on every rank with the reason. Prints "SHARED-MEMORY OK rank" on success.
    func sharedMemoryAllreduce(_ comm: Communicator) throws {
        guard comm.size > 1 else { print("SHARED-MEMORY OK 0"); return }
        let count = 1037
        let shared = try SharedMemoryAllreduce(communicator: comm, count: count)
        let array = NDArray(shape: [count], storage: shared.makeStorage())
        func value(_ i: Int, rank: Int) -> Float { Float((i * 13 + rank * 5) % 61 - 30) / 2 }
        for range in [0..<count, 5..<500, 500..<501, 700..<count, 3..<19] {
            for i in 0..<count { array.ptr[i] = value(i, rank: comm.rank) }
            shared.allreduce(range, blocks: comm.blocks(count: range.count))
            for i in 0..<count {
                let want =
                    range.contains(i)
                    ? (0..<comm.size).reduce(Float(0)) { $0 + value(i, rank: $1) } : value(i, rank: comm.rank)
                if array.ptr[i] != want {
                    throw ValidationError("range \(range): element \(i) is \(array.ptr[i]), want \(want)")
                }
            }
        }
        // Random values: every rank ends with the same bits; two ranks, MPI's bits.
        var rng = PhiloxRNG(seed: 11 + UInt64(comm.rank))
        rng.fillNormal(array.ptr, count)
        let viaMPI = array.copy()
        comm.allreduce(viaMPI.ptr, count: count, op: .sum)
        shared.allreduce(0..<count, blocks: comm.blocks(count: count))
        if Set(comm.allgather(Self.digest(array))).count != 1 { throw ValidationError("ranks hold different sums") }
        if comm.size == 2 && Self.digest(array) != Self.digest(viaMPI) {
            throw ValidationError("two ranks' sums differ from MPI_Allreduce's")
        }
        do {
            _ = try SharedMemoryAllreduce(communicator: comm, count: 1 << 42)
            throw ValidationError("a 16 TiB segment was created")
        } catch let error as SharedMemoryError {
            print("SHARED-MEMORY REFUSED \(comm.rank) \(error)")
        }
        print("SHARED-MEMORY OK \(comm.rank)")
    }

    /// A small CNN, identical on every rank before the broadcast.
    func makeModel(hidden: Int) -> (Sequential, ParameterArena) {
        Init.seed(7)
        let model = Sequential(
            Conv2d(1, 4, kernel: 3, padding: 1), ActivationLayer(.relu), MaxPool2d(kernel: 2),
            Flatten(), Linear(64, hidden), ActivationLayer(.tanh), Linear(hidden, 3))
        return (model, model.flattenParameters())
    }

    func makeDDP(
        _ comm: Communicator, hidden: Int, configHash: String, bucketBytes: Int = 1024,
        firstBucketBytes: Int = 256
    ) -> (Sequential, DistributedDataParallel) {
        let (model, arena) = makeModel(hidden: hidden)
        // Scramble non-root replicas: the broadcast must make them equal again.
        if comm.rank != 0 { for i in 0..<arena.capacity { arena.values.ptr[i] += Float(comm.rank) } }
        let wireType = DType(rawValue: wire) ?? .float32
        return (
            model,
            DistributedDataParallel(
                model: model, arena: arena, communicator: comm, configHash: configHash,
                bucketBytes: bucketBytes, firstBucketBytes: firstBucketBytes, wire: wireType,
                shardOptimizer: shardOptimizer, sharedMemory: sharedMemory)
        )
    }

    /// The global batch of step `s`: 8x8 images and labels, the same on every rank.
    func batch(step s: Int) -> (NDArray, [Int32]) {
        var rng = PhiloxRNG(seed: 100 + UInt64(s))
        let x = NDArray(shape: [globalBatch, 1, 8, 8], zeroed: false)
        rng.fillNormal(x.ptr, x.count)
        return (x, (0..<globalBatch).map { Int32($0 % 3) })
    }

    /// Trains on this rank's contiguous shard of each global batch and prints the final
    /// parameters, the optimizer's state as a checkpoint would save it, and every rank's digest
    /// of its parameters.
    func equivalence(_ comm: Communicator) throws {
        guard globalBatch % (comm.size * accumulate) == 0 else {
            throw ValidationError(
                "global batch \(globalBatch) must divide into \(comm.size) ranks x \(accumulate) micro-batches")
        }
        let (model, ddp) = makeDDP(comm, hidden: 16, configHash: "a")
        let update: Optimizer =
            optimizer == "adam"
            ? Adam(ddp.arena, learningRate: 0.01, weightDecay: 0.01)
            : SGD(ddp.arena, learningRate: 0.1, momentum: 0.9)
        ddp.shard(update)
        let local = globalBatch / comm.size, micro = local / accumulate
        var lastLoss = GlobalAverage()
        for s in 0..<steps {
            let (x, labels) = batch(step: s)
            lastLoss = GlobalAverage()
            for m in 0..<accumulate {
                ddp.synchronize = m == accumulate - 1
                let start = comm.rank * local + m * micro
                let xs = Tensor(Layout.slice(x, axis: 0, start: start, end: start + micro))
                let ys = NDArray(indices: Array(labels[start..<(start + micro)]), shape: [micro])
                // Each micro-batch's mean loss, weighted so the sum is the shard's mean.
                let loss = Loss.crossEntropy(model(xs), ys)
                lastLoss.add(Double(loss.item), weight: Double(micro))
                (loss * (1 / Float(accumulate))).backward()
            }
            ddp.finishGradients()
            // Every rank's clipping norm, gathered and printed by rank 0 (lines printed by several
            // ranks can interleave inside the long PARAMS line).
            let norm = ddp.gradientNorm()
            GradientClipping.scale(ddp.arena, total: norm, maxNorm: maxNorm)
            let norms = comm.allgather("\(norm)")
            if comm.rank == 0 { for (r, n) in norms.enumerated() { print("NORM \(r) \(s) \(n)") } }
            update.step()
            ddp.gatherParameters()
            ddp.arena.zeroGrad()
        }
        let globalLoss = lastLoss.value(over: comm)
        let gathered = ddp.gatherState(of: update)
        let digests = comm.allgather(Self.digest(ddp.arena.values))
        let owned = comm.allgather("\(ddp.reducer.ownedRanges.reduce(0) { $0 + $1.count })")
        if comm.rank == 0 {
            print("LOSS \(globalLoss)")
            print("SHARED \(ddp.reducer.sharedMemory != nil ? 1 : 0)")
            print("PARAMS " + ddp.arena.tensors.flatMap(\.data.scalars).map { "\($0)" }.joined(separator: " "))
            // The state's values at the parameters' places (the arena's padding is never updated).
            let state = gathered.sorted { $0.key < $1.key }.filter { $0.value.count == ddp.arena.capacity }
            print(
                "STATE "
                    + state.flatMap { _, array in
                        ddp.arena.entries.flatMap { e in (e.offset..<(e.offset + e.count)).map { "\(array.ptr[$0])" } }
                    }.joined(separator: " "))
            for (r, d) in digests.enumerated() { print("DIGEST \(r) \(d)") }
            // Gradient elements each rank holds summed (and updates): all of them unless sharded.
            for (r, n) in owned.enumerated() {
                print("OWNED \(r) \(n) of \(ddp.reducer.buckets.reduce(0) { $0 + $1.range.count })")
            }
        }
        ddp.shutdown()
    }

    /// FNV-1a over the values' bit patterns: equal digests mean bit-identical arrays.
    static func digest(_ values: NDArray) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for i in 0..<values.count { h = (h ^ UInt64(values.ptr[i].bitPattern)) &* 0x100_0000_01b3 }
        return String(h, radix: 16)
    }

    /// fp16 steps with a dynamic loss scale, where rank 1 alone feeds an infinity in step 1:
    /// rank 0 prints every rank's overflow flag, scale and parameter digest after each step.
    func overflow(_ comm: Communicator) {
        let (model, ddp) = makeDDP(comm, hidden: 16, configHash: "a")
        let sgd = SGD(ddp.arena, learningRate: 0.1, momentum: 0.9)
        ddp.shard(sgd)
        var scaler = LossScaler(initialScale: 1024, growthInterval: 2)
        let local = globalBatch / comm.size
        for s in 0..<4 {
            let (x, labels) = batch(step: s)
            let start = comm.rank * local
            let xs = Layout.slice(x, axis: 0, start: start, end: start + local).copy()
            if s == 1 && comm.rank == 1 { xs.ptr[5] = .infinity }
            let ys = NDArray(indices: Array(labels[start..<(start + local)]), shape: [local])
            let loss = withAutocast(.float16) { Loss.crossEntropy(model(Tensor(xs)), ys) }
            loss.backward(NDArray(repeating: Float(scaler.scale), shape: loss.shape))
            ddp.finishGradients()
            ddp.arena.gradientScale *= Float(1 / scaler.scale)
            let overflow = !ddp.gradientNorm().isFinite
            if !overflow {
                sgd.step()
                ddp.gatherParameters()
            }
            ddp.arena.zeroGrad()
            scaler.update(overflow: overflow)
            let all = comm.allgather("\(overflow) \(scaler.scale) \(Self.digest(ddp.arena.values))")
            if comm.rank == 0 { for (r, line) in all.enumerated() { print("STEP \(r) \(s) \(line)") } }
        }
        ddp.shutdown()
    }

    /// One backward over a model with many buckets: when did each allreduce start?
    func overlap(_ comm: Communicator) {
        Init.seed(3)
        let model = Sequential((0..<6).flatMap { _ in [Linear(256, 256), ActivationLayer(.tanh)] as [any Layer] })
        let arena = model.flattenParameters()
        let ddp = DistributedDataParallel(
            model: model, arena: arena, communicator: comm, configHash: "overlap",
            bucketBytes: 256 << 10, firstBucketBytes: 64 << 10)
        var rng = PhiloxRNG(seed: 1)
        let x = NDArray(shape: [64, 256], zeroed: false)
        rng.fillNormal(x.ptr, x.count)
        for _ in 0..<12 {  // every step is reported; the test looks at all of them
            let loss = model(Tensor(x)).pow(2).mean()
            let backwardStart = GradientReducer.now()
            loss.backward()
            let backwardEnd = GradientReducer.now()
            let t = ddp.finishGradients()
            let early = t.bucketStarts.filter { $0 < backwardEnd }.count
            let readyEarly = t.bucketReady.filter { $0 < backwardEnd }.count
            if comm.rank == 0 {
                print(
                    "OVERLAP buckets=\(ddp.reducer.buckets.count) ready_before_backward_end=\(readyEarly) "
                        + "started_before_backward_end=\(early) "
                        + "first_start_ms=\((t.bucketStarts.first! - backwardStart) * 1e3) "
                        + "backward_ms=\((backwardEnd - backwardStart) * 1e3) exposed_ms=\(t.exposedSeconds * 1e3)")
            }
            arena.zeroGrad()
        }
        ddp.shutdown()
    }
}

MPICheck.main()
