import ArgumentParser
import Collective
import Models
import NN
import Optim
import TensorCore
import Training
#if canImport(Glibc)
    import Glibc
#endif

/// `tandem-bench step`: one data-parallel training step of a reference workload.
struct StepBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "step",
        abstract: "Time forward, loss, backward, gradient allreduce, clipping at 1.0 and an SGD step.",
        discussion:
            "Workloads: \(Workload.allCases.map(\.rawValue).joined(separator: ", ")). Data is synthetic with the workload's shapes."
    )

    enum Workload: String, CaseIterable, ExpressibleByArgument {
        case mlp = "mlp_fmnist_b64"
        case lenet5 = "lenet5_fmnist_b64"
        case chargpt = "chargpt_shakespeare_b32_t64"
        case charlstm = "charlstm_shakespeare_b32_t64"
    }

    @Option(help: "The workload.") var workload: Workload = .mlp
    @Option(help: "Threads per rank.") var threads = 1
    @Option(
        help:
            "fp32, fp16 (with a loss scale of 1024, unscaled before clipping) or bf16; or several, comma-separated, timed side by side: one step of each in turn on the same model, so that the machine's slow minutes slow them alike."
    )
    var precision = "fp32"
    @Option(help: "Timed steps (after 5 warm-up steps).") var steps = 20
    @Option(help: "Gradient bucket size in bytes (DDP's default 25 MiB).") var bucketBytes = 25 << 20
    @Option(help: "First gradient bucket's size in bytes (DDP's default 1 MiB).") var firstBucketBytes = 1 << 20
    @Option(
        help:
            "Deterministic mode: micro-shards per step over all ranks (0: the normal path). Each rank's batch is split into micro-shards / world shards, summed in 64-bit fixed point."
    )
    var microShards = 0
    @Option(help: "Samples per rank (default: the workload's, 64 images or 32 sequences).") var batch: Int?
    @Option(help: "Sequence length of the character workloads (default 64).") var context: Int?
    @Option(
        help:
            "Model width: the MLP's first hidden layer (the second is half of it), the GPT's embedding (a multiple of its 4 heads) or the LSTM's hidden size (defaults 256, 128, 256). LeNet-5 has none."
    )
    var width: Int?
    @Option(help: "The format gradients travel in between ranks: fp32, fp16 or bf16 (distributed.wire).") var wire =
        "fp32"
    @Flag(
        help:
            "Shard the optimizer over the ranks (ZeRO stage 1): gradients reduce-scattered, each rank updating its block, parameters allgathered."
    )
    var shardOptimizer = false
    @Option(help: "Sum gradients through shared memory when every rank runs on this node (distributed.shared_memory).")
    var sharedMemory = true
    @Flag(help: "Print one JSON object.") var json = false

    /// The workload's own sizes unless overridden (a cost-growth sweep changes one at a time).
    /// The character workloads take token sequences; the others take images.
    var isCharacter: Bool { [.chargpt, .charlstm].contains(workload) }
    var batchSize: Int { batch ?? (isCharacter ? 32 : 64) }
    var sequenceLength: Int { context ?? 64 }
    var modelWidth: Int { width ?? (workload == .chargpt ? 128 : 256) }
    var precisions: [String] { precision.split(separator: ",").map(String.init) }

    func validate() throws {
        guard !precisions.isEmpty, precisions.allSatisfy(["fp32", "fp16", "bf16"].contains),
            Set(precisions).count == precisions.count
        else {
            throw ValidationError(
                "--precision is fp32, fp16 or bf16, or several of them comma-separated (each once), not \(precision)")
        }
        guard ["fp32", "fp16", "bf16"].contains(wire) else {
            throw ValidationError("--wire is fp32, fp16 or bf16, not \(wire)")
        }
        guard threads >= 1, steps >= 1 else { throw ValidationError("--threads and --steps must be at least 1") }
        guard bucketBytes > 0, firstBucketBytes > 0 else { throw ValidationError("bucket sizes must be positive") }
        guard microShards >= 0 else { throw ValidationError("--micro-shards must be 0 or positive") }
        guard batchSize >= 1, sequenceLength >= 1, modelWidth >= 2 else {
            throw ValidationError("--batch and --context must be at least 1 and --width at least 2")
        }
        if context != nil && !isCharacter {
            throw ValidationError("--context applies to the character workloads only, not \(workload.rawValue)")
        }
        if width != nil && workload == .lenet5 {
            throw ValidationError("--width does not apply to lenet5_fmnist_b64 (its layers are fixed)")
        }
        if workload == .chargpt && modelWidth % 4 != 0 {
            throw ValidationError("--width \(modelWidth) must be a multiple of the GPT's 4 heads")
        }
    }

    /// The model of each workload, as docs/BENCHMARKS.md defines it, and its logits of a batch.
    func model() -> (module: any Module, logits: (NDArray) -> Tensor) {
        Init.seed(1)
        switch workload {
        case .mlp:
            let h = modelWidth
            let net = Sequential(
                Flatten(), Linear(784, h), ActivationLayer(.relu), Linear(h, h / 2), ActivationLayer(.relu),
                Linear(h / 2, 10))
            return (net, { net(Tensor($0)) })
        case .lenet5:
            let net = Sequential(
                Conv2d(1, 6, kernel: 5, padding: 2), ActivationLayer(.relu), MaxPool2d(kernel: 2),
                Conv2d(6, 16, kernel: 5), ActivationLayer(.relu), MaxPool2d(kernel: 2), Flatten(),
                Linear(400, 120), ActivationLayer(.relu), Linear(120, 84), ActivationLayer(.relu), Linear(84, 10))
            return (net, { net(Tensor($0)) })
        case .chargpt:
            let gpt = GPT(
                vocabulary: 65, context: sequenceLength, width: modelWidth, layers: 4, heads: 4, approximateGELU: true)
            return (gpt, gpt.logits)
        case .charlstm:
            let lstm = RecurrentLanguageModel(.lstm, vocabulary: 65, embeddingSize: 128, hiddenSize: modelWidth)
            return (lstm, lstm.logits)
        }
    }

    /// Synthetic inputs and targets with the workload's shapes (different on every rank).
    func batch(rank: Int) -> (inputs: NDArray, targets: NDArray) {
        var rng = PhiloxRNG(seed: 10 + UInt64(rank))
        switch workload {
        case .mlp, .lenet5:
            let n = batchSize
            let x = NDArray(shape: [n, 1, 28, 28], zeroed: false)
            rng.fillUniform(x.ptr, x.count)
            return (x, NDArray(indices: (0..<n).map { Int32(($0 * 7 + rank) % 10) }, shape: [n]))
        case .chargpt, .charlstm:
            let (b, t) = (batchSize, sequenceLength)
            var u = [Float](repeating: 0, count: b * t + 1)
            rng.fillUniform(&u, u.count)
            let ids = u.map { Int32(min($0 * 65, 64)) }
            return (
                NDArray(indices: Array(ids[0..<(b * t)]), shape: [b, t]),
                NDArray(indices: Array(ids[1...(b * t)]), shape: [b * t])
            )
        }
    }

    func run() throws {
        ThreadPool.configure(threads: threads)
        let baselineRSSMB = Self.maxRSSMB()  // the runtime, MPI and the pool, before any tensor
        let comm: Communicator = MPICommunicator.launchedByMPI ? MPICommunicator() : SingleProcessCommunicator()
        let (net, logits) = model()
        let ddp = DistributedDataParallel(
            model: net, arena: net.flattenParameters(), communicator: comm,
            configHash:
                "\(workload.rawValue) \(precision) wire \(wire) sharded \(shardOptimizer) shared memory \(sharedMemory)",
            bucketBytes: bucketBytes, firstBucketBytes: firstBucketBytes,
            wire: ["fp16": .float16, "bf16": .bfloat16][wire] ?? .float32, shardOptimizer: shardOptimizer,
            sharedMemory: sharedMemory)
        let optimizer: Optimizer =
            !isCharacter
            ? SGD(ddp.arena, learningRate: 0.01, momentum: 0.9)
            : Adam.adamW(ddp.arena, learningRate: 1e-3, weightDecay: 0.1)
        ddp.shard(optimizer)
        let (x, labels) = batch(rank: comm.rank)
        let batch = x.shape[0]
        var exposed: [Double] = [], allreduce: [Double] = []
        // Per step: forward and backward; from the last bucket being ready to finishGradients()
        // being called (backward's tail, as long as the main thread kept its core); clipping,
        // the optimizer and zeroing the gradients (sharded: with the norm's allreduce and the
        // parameters' allgather).
        var forwardBackward: [Double] = [], tail: [Double] = [], update: [Double] = []
        // Per precision: the autocast type and the loss scale.
        let settings: [(DType, Float)] = precisions.map {
            (["fp16": .float16, "bf16": .bfloat16][$0] ?? .float32, $0 == "fp16" ? 1024 : 1)
        }
        let local = microShards / comm.size
        guard microShards == 0 || (microShards % comm.size == 0 && batch % local == 0) else {
            comm.abort(
                "--micro-shards \(microShards) must divide over \(comm.size) ranks into shards of the \(batch)-sample batch"
            )
        }
        let fixedPoint =
            microShards == 0
            ? nil
            : FixedPointReducer(communicator: comm, arena: ddp.arena, globalShards: microShards, localShards: local)
        let shards = fixedPoint == nil ? [] : (0..<local).map { rows(x, labels, shard: $0, of: local) }
        // Tensor bytes the graph holds for backward, measured after the forward pass.
        var activationBytes = 0
        /// One step in precision `setting`; only the first precision's phases are recorded.
        func step(_ setting: Int = 0) -> Float {
            let (computeType, lossScale) = settings[setting], recording = setting == 0
            var lossValue: Float = 0
            let started = GradientReducer.now()
            let before = Storage.liveBytes
            if let fixedPoint {
                // Deterministic mode: one forward/backward per shard, an exact sum over all of them.
                ddp.synchronize = false
                for (sx, sy) in shards {
                    let loss = withAutocast(computeType) { Loss.crossEntropy(logits(sx), sy) }
                    loss.backward(NDArray(repeating: lossScale, shape: loss.shape))
                    lossValue += loss.item / Float(local)
                    fixedPoint.add(ddp.arena.grads)
                }
                if recording { forwardBackward.append((GradientReducer.now() - started) * 1e3) }
                fixedPoint.reduce(into: ddp.arena.grads)
                if recording { exposed.append(0) }
            } else {
                let loss = withAutocast(computeType) { Loss.crossEntropy(logits(x), labels) }
                activationBytes = Storage.liveBytes - before
                loss.backward(NDArray(repeating: lossScale, shape: loss.shape))
                lossValue = loss.item
                let finishing = GradientReducer.now()
                let timing = ddp.finishGradients()
                if recording {
                    forwardBackward.append((finishing - started) * 1e3)
                    tail.append(timing.bucketReady.last.map { (finishing - $0) * 1e3 } ?? 0)
                    exposed.append(timing.exposedSeconds * 1e3)
                    // From the first bucket's start to the last one's end (nothing on one rank).
                    if let start = timing.bucketStarts.first, let end = timing.bucketEnds.last {
                        allreduce.append((end - start) * 1e3)
                    }
                }
            }
            let updating = GradientReducer.now()
            ddp.arena.gradientScale /= lossScale
            GradientClipping.scale(ddp.arena, total: ddp.gradientNorm(), maxNorm: 1)
            optimizer.step()
            ddp.gatherParameters()
            ddp.arena.zeroGrad()
            if recording { update.append((GradientReducer.now() - updating) * 1e3) }
            return lossValue
        }
        // Check first: the loss is finite and every rank holds the same parameters after a step.
        let loss = step()
        let digest = ddp.arena.values.scalars.enumerated().reduce(0.0) {
            $0 + Double($1.element) * Double($1.offset % 97 + 1)
        }
        let spread = comm.allreduce([digest, -digest], op: .max)
        if !loss.isFinite || spread[0] != -spread[1] {
            comm.abort(
                "step check failed: loss \(loss), parameters differ across ranks (\(spread[0]) vs \(-spread[1]))")
        }
        exposed.removeAll()
        allreduce.removeAll()
        forwardBackward.removeAll()
        tail.removeAll()
        update.removeAll()
        let times = Stopwatch.interleavedMedianMs(warmup: 5, runs: steps, count: settings.count) { _ = step($0) }
        let ms = times[0]
        // Memory of one more step of each precision: what it holds between steps (parameters,
        // gradients, optimizer state, the batch), its activations, and the most tensor storage
        // alive at once. The first precision's are the figures below.
        let stateBytes = Storage.liveBytes
        var memory: [(activationMB: Double, peakTensorMB: Double)] = []
        var gemmGFlop = 0.0
        for setting in settings.indices.reversed() {
            Storage.resetPeakBytes()
            let flopsBefore = GEMM.flops
            _ = step(setting)
            gemmGFlop = Double(GEMM.flops - flopsBefore) / 1e9
            memory.insert((Double(activationBytes) / 1048576, Double(Storage.peakBytes) / 1048576), at: 0)
        }
        let (activationMB, peakTensorMB) = memory[0]
        let stateMB = Double(stateBytes) / 1048576
        func median(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.sorted()[values.count / 2] }
        let exposedMs = median(Array(exposed.dropFirst(5))), allreduceMs = median(Array(allreduce.dropFirst(5)))
        let forwardBackwardMs = median(Array(forwardBackward.dropFirst(5))), tailMs = median(Array(tail.dropFirst(5)))
        let updateMs = median(Array(update.dropFirst(5)))
        let rssMB = Self.maxRSSMB()
        // The target: peak tensor memory within 1.3x of state + activations.
        let memoryRatio = peakTensorMB / (stateMB + activationMB)
        ddp.shutdown()
        // With several precisions: each one's median step, its activations and its peak tensors.
        let sideBySide = zip(precisions, zip(times, memory)).map { ($0, $1.0, $1.1.activationMB, $1.1.peakTensorMB) }
        let sideBySideJSON =
            sideBySide.count < 2
            ? ""
            : #","side_by_side":["#
                + sideBySide.map {
                    #"{"precision":"\#($0.0)","ms_per_step":\#($0.1),"ratio_to_first":\#($0.1 / ms),"activation_mb":\#($0.2),"peak_tensor_mb":\#($0.3)}"#
                }
                .joined(separator: ",") + "]"
        let sideBySideText =
            sideBySide.count < 2
            ? ""
            : "; side by side: "
                + sideBySide.map {
                    "\($0.0) \($0.1) ms (x\($0.1 / ms)), activations \($0.2) MB, peak tensors \($0.3) MB"
                }.joined(separator: ", ")
        if comm.rank == 0 {
            let samples = Double(batch * comm.size) / (ms * 1e-3)
            if json {
                print(
                    #"{"bench":"step","workload":"\#(workload.rawValue)","threads":\#(threads),"sharded":\#(ddp.sharded),"shared_memory":\#(ddp.reducer.sharedMemory != nil),"wire":"\#(wire)","precision":"\#(precision)","world":\#(comm.size),"micro_shards":\#(microShards),"ms_per_step":\#(ms),"samples_per_s":\#(samples),"peak_rss_mb":\#(rssMB),"state_mb":\#(stateMB),"activation_mb":\#(activationMB),"peak_tensor_mb":\#(peakTensorMB),"memory_ratio":\#(memoryRatio),"baseline_rss_mb":\#(baselineRSSMB),"batch":\#(batch),"context":\#(isCharacter ? sequenceLength : 0),"width":\#(workload == .lenet5 ? 0 : modelWidth),"gemm_gflop_per_step":\#(gemmGFlop),"gemm_gflops":\#(gemmGFlop / (ms * 1e-3)),"exposed_comm_ms":\#(exposedMs),"allreduce_ms":\#(allreduceMs),"forward_backward_ms":\#(forwardBackwardMs),"tail_ms":\#(tailMs),"update_ms":\#(updateMs)\#(sideBySideJSON)}"#
                )
            } else {
                print(
                    "step \(workload.rawValue) world \(comm.size) x \(threads) threads\(ddp.sharded ? ", optimizer sharded" : "")\(microShards > 0 ? ", \(microShards) micro-shards" : ""): \(ms) ms/step, \(samples) samples/s, exposed communication \(exposedMs) ms, allreduce \(allreduceMs) ms (forward and backward \(forwardBackwardMs) ms, then \(tailMs) ms from the last bucket ready to waiting for it, update \(updateMs) ms), peak RSS \(rssMB) MB (tensors: \(stateMB) MB between steps + \(activationMB) MB activations, peak \(peakTensorMB) MB, \(memoryRatio)x), GEMMs \(gemmGFlop) GFLOP a step at \(gemmGFlop / (ms * 1e-3)) GFLOP/s\(sideBySideText)"
                )
            }
        }
        (comm as? MPICommunicator)?.finalize()
    }

    /// The process's peak resident set so far, in MiB.
    static func maxRSSMB() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }

    /// Shard `j` of `parts` of a batch: its rows of the inputs and of the targets.
    func rows(_ x: NDArray, _ y: NDArray, shard j: Int, of parts: Int) -> (NDArray, NDArray) {
        func slice(_ a: NDArray) -> NDArray {
            var dims = a.shape.dims
            dims[0] /= parts
            let out = NDArray(shape: Shape(dims), dtype: a.dtype, zeroed: false), bytes = out.count * a.dtype.byteSize
            out.storage.raw.copyMemory(from: a.storage.raw + j * bytes, byteCount: bytes)
            return out
        }
        return (slice(x), slice(y))
    }
}
