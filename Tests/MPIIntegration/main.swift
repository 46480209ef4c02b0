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

    @Argument(help: "equivalence | overlap | overflow | mismatch-shape | mismatch-config | die | stall | reduce-scatter") var scenario: String
    @Option(help: "Training steps.") var steps = 3
    @Option(help: "Samples per step over all ranks.") var globalBatch = 24
    @Option(help: "Micro-batches per step (gradients synchronised on the last only).") var accumulate = 1
    @Option(help: "Gradient wire format: float32, float16 or bfloat16.") var wire = "float32"
    @Option(help: "Clip the averaged gradients' global norm to this.") var maxNorm: Float = 1
    @Option(help: "stall: seconds the last rank sleeps before the collective.") var stallSleep = 3.0
    @Option(help: "stall: seconds before rank 0 warns.") var stallWarning = 1.0
    @Option(help: "stall: seconds before rank 0 ends the job (0: never).") var stallAbort = 0.0

    func run() throws {
        let comm: Communicator = MPICommunicator.launchedByMPI ? MPICommunicator() : SingleProcessCommunicator()
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
            case "stall": stall(comm)
            case "reduce-scatter": try reduceScatter(comm)
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

    /// The last rank arrives late at an allreduce; rank 0's inspector names it.
    func stall(_ comm: Communicator) {
        guard let mpi = comm as? MPICommunicator else { return }
        let on = mpi.inspectStalls(warnAfter: stallWarning, abortAfter: stallAbort > 0 ? stallAbort : nil) { warning in
            fputs("STALL \(warning)\n", stderr)
        }
        print("INSPECTING \(on)")
        var value = [Double(comm.rank)]
        comm.barrier()
        if comm.rank == comm.size - 1 { usleep(UInt32(stallSleep * 1e6)) }
        value = comm.allreduce(value)
        print("SUM \(value[0])")
    }

    /// reduceScatter and the in-place allgather against naive sums, on sizes that do not split
    /// evenly (and 5 values, where some ranks' blocks are empty).
    func reduceScatter(_ comm: Communicator) throws {
        // Large values too: the sums must be exact 64-bit integers, not doubles.
        func value(_ i: Int, rank: Int) -> Int64 { Int64(i * 31 + rank * 7) * (i % 3 == 0 ? -(1 << 40) : 1) + Int64(rank) }
        for count in [5, 1001, 40_000] {
            let blocks = comm.blocks(count: count)
            guard blocks.first?.lowerBound == 0, blocks.last?.upperBound == count,
                  zip(blocks, blocks.dropFirst()).allSatisfy({ $0.upperBound == $1.lowerBound }) else {
                throw ValidationError("blocks \(blocks) do not tile \(count) values")
            }
            var sums = (0..<count).map { value($0, rank: comm.rank) }
            comm.reduceScatter(&sums, blocks: blocks)
            let mine = blocks[comm.rank]
            for i in mine where sums[i] != (0..<comm.size).reduce(0, { $0 + value(i, rank: $1) }) {
                throw ValidationError("count \(count): sum \(i) is \(sums[i])")
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

    /// A small CNN, identical on every rank before the broadcast.
    func makeModel(hidden: Int) -> (Sequential, ParameterArena) {
        Init.seed(7)
        let model = Sequential(Conv2d(1, 4, kernel: 3, padding: 1), ActivationLayer(.relu), MaxPool2d(kernel: 2),
                               Flatten(), Linear(64, hidden), ActivationLayer(.tanh), Linear(hidden, 3))
        return (model, model.flattenParameters())
    }

    func makeDDP(_ comm: Communicator, hidden: Int, configHash: String, bucketBytes: Int = 1024,
                 firstBucketBytes: Int = 256) -> (Sequential, DistributedDataParallel) {
        let (model, arena) = makeModel(hidden: hidden)
        // Scramble non-root replicas: the broadcast must make them equal again.
        if comm.rank != 0 { for i in 0..<arena.capacity { arena.values.ptr[i] += Float(comm.rank) } }
        let wireType = DType(rawValue: wire) ?? .float32
        return (model, DistributedDataParallel(model: model, arena: arena, communicator: comm, configHash: configHash,
                                               bucketBytes: bucketBytes, firstBucketBytes: firstBucketBytes, wire: wireType))
    }

    /// The global batch of step `s`: 8x8 images and labels, the same on every rank.
    func batch(step s: Int) -> (NDArray, [Int32]) {
        var rng = PhiloxRNG(seed: 100 + UInt64(s))
        let x = NDArray(shape: [globalBatch, 1, 8, 8], zeroed: false)
        rng.fillNormal(x.ptr, x.count)
        return (x, (0..<globalBatch).map { Int32($0 % 3) })
    }

    /// Trains on this rank's contiguous shard of each global batch and prints the final parameters.
    func equivalence(_ comm: Communicator) throws {
        guard globalBatch % (comm.size * accumulate) == 0 else {
            throw ValidationError("global batch \(globalBatch) must divide into \(comm.size) ranks x \(accumulate) micro-batches")
        }
        let (model, ddp) = makeDDP(comm, hidden: 16, configHash: "a")
        let sgd = SGD(ddp.arena, learningRate: 0.1, momentum: 0.9)
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
            let norm = GradientClipping.clipNorm(ddp.arena, maxNorm: maxNorm)
            let norms = comm.allgather("\(norm)")
            if comm.rank == 0 { for (r, n) in norms.enumerated() { print("NORM \(r) \(s) \(n)") } }
            sgd.step()
            ddp.arena.zeroGrad()
        }
        let globalLoss = lastLoss.value(over: comm)
        if comm.rank == 0 {
            print("LOSS \(globalLoss)")
            print("PARAMS " + ddp.arena.tensors.flatMap(\.data.scalars).map { "\($0)" }.joined(separator: " "))
        }
        ddp.shutdown()
    }

    /// fp16 steps with a dynamic loss scale, where rank 1 alone feeds an infinity in step 1:
    /// rank 0 prints every rank's overflow flag, scale and parameter digest after each step.
    func overflow(_ comm: Communicator) {
        let (model, ddp) = makeDDP(comm, hidden: 16, configHash: "a")
        let sgd = SGD(ddp.arena, learningRate: 0.1, momentum: 0.9)
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
            let overflow = !GradientClipping.globalNorm(ddp.arena).isFinite
            if !overflow { sgd.step() }
            ddp.arena.zeroGrad()
            scaler.update(overflow: overflow)
            // FNV-1a over the parameters' bit patterns: equal digests mean bit-identical weights.
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for i in 0..<ddp.arena.capacity { h = (h ^ UInt64(ddp.arena.values.ptr[i].bitPattern)) &* 0x100_0000_01b3 }
            let all = comm.allgather("\(overflow) \(scaler.scale) \(String(h, radix: 16))")
            if comm.rank == 0 { for (r, line) in all.enumerated() { print("STEP \(r) \(s) \(line)") } }
        }
        ddp.shutdown()
    }

    /// One backward over a model with many buckets: when did each allreduce start?
    func overlap(_ comm: Communicator) {
        Init.seed(3)
        let model = Sequential((0..<6).flatMap { _ in [Linear(256, 256), ActivationLayer(.tanh)] as [any Layer] })
        let arena = model.flattenParameters()
        let ddp = DistributedDataParallel(model: model, arena: arena, communicator: comm, configHash: "overlap",
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
                print("OVERLAP buckets=\(ddp.reducer.buckets.count) ready_before_backward_end=\(readyEarly) "
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
