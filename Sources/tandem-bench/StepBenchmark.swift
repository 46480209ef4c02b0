import ArgumentParser
import Collective
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
        discussion: "Workloads: \(Workload.allCases.map(\.rawValue).joined(separator: ", ")). Data is synthetic with the workload's shapes.")

    enum Workload: String, CaseIterable, ExpressibleByArgument {
        case mlp = "mlp_fmnist_b64"
        case lenet5 = "lenet5_fmnist_b64"
    }

    @Option(help: "The workload.") var workload: Workload = .mlp
    @Option(help: "Threads per rank.") var threads = 1
    @Option(help: "fp32, fp16 (with a loss scale of 1024, unscaled before clipping) or bf16.") var precision = "fp32"
    @Option(help: "Timed steps (after 5 warm-up steps).") var steps = 20
    @Option(help: "Gradient bucket size in bytes (DDP's default 25 MiB).") var bucketBytes = 25 << 20
    @Option(help: "First gradient bucket's size in bytes (DDP's default 1 MiB).") var firstBucketBytes = 1 << 20
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard ["fp32", "fp16", "bf16"].contains(precision) else { throw ValidationError("--precision is fp32, fp16 or bf16, not \(precision)") }
        guard threads >= 1, steps >= 1 else { throw ValidationError("--threads and --steps must be at least 1") }
        guard bucketBytes > 0, firstBucketBytes > 0 else { throw ValidationError("bucket sizes must be positive") }
    }

    /// The model of each workload, as BENCHMARKS.md defines it.
    func model() -> Sequential {
        Init.seed(1)
        switch workload {
        case .mlp:
            return Sequential(Flatten(), Linear(784, 256), ActivationLayer(.relu), Linear(256, 128), ActivationLayer(.relu),
                              Linear(128, 10))
        case .lenet5:
            return Sequential(Conv2d(1, 6, kernel: 5, padding: 2), ActivationLayer(.relu), MaxPool2d(kernel: 2),
                              Conv2d(6, 16, kernel: 5), ActivationLayer(.relu), MaxPool2d(kernel: 2), Flatten(),
                              Linear(400, 120), ActivationLayer(.relu), Linear(120, 84), ActivationLayer(.relu), Linear(84, 10))
        }
    }

    func run() throws {
        ThreadPool.configure(threads: threads)
        let comm: Communicator = MPICommunicator.launchedByMPI ? MPICommunicator() : SingleProcessCommunicator()
        let net = model()
        let ddp = DistributedDataParallel(model: net, arena: net.flattenParameters(), communicator: comm,
                                          configHash: "\(workload.rawValue) \(precision)",
                                          bucketBytes: bucketBytes, firstBucketBytes: firstBucketBytes)
        let sgd = SGD(ddp.arena, learningRate: 0.01, momentum: 0.9)
        let batch = 64
        var rng = PhiloxRNG(seed: 10 + UInt64(comm.rank))
        let x = NDArray(shape: [batch, 1, 28, 28], zeroed: false)
        rng.fillUniform(x.ptr, x.count)
        let labels = NDArray(indices: (0..<batch).map { Int32(($0 * 7 + comm.rank) % 10) }, shape: [batch])
        var exposed: [Double] = []
        let computeType: DType = ["fp16": .float16, "bf16": .bfloat16][precision] ?? .float32
        let lossScale: Float = precision == "fp16" ? 1024 : 1
        func step() -> Float {
            let loss = withAutocast(computeType) { Loss.crossEntropy(net(Tensor(x)), labels) }
            loss.backward(NDArray(repeating: lossScale, shape: loss.shape))
            exposed.append(ddp.finishGradients().exposedSeconds * 1e3)
            ddp.arena.gradientScale /= lossScale
            GradientClipping.clipNorm(ddp.arena, maxNorm: 1)
            sgd.step()
            ddp.arena.zeroGrad()
            return loss.item
        }
        // Check first: the loss is finite and every rank holds the same parameters after a step.
        let loss = step()
        let digest = ddp.arena.values.scalars.enumerated().reduce(0.0) { $0 + Double($1.element) * Double($1.offset % 97 + 1) }
        let spread = comm.allreduce([digest, -digest], op: .max)
        if !loss.isFinite || spread[0] != -spread[1] {
            comm.abort("step check failed: loss \(loss), parameters differ across ranks (\(spread[0]) vs \(-spread[1]))")
        }
        exposed.removeAll()
        let ms = Stopwatch.medianMs(warmup: 5, runs: steps) { _ = step() }
        let exposedMs = exposed.dropFirst(5).sorted()[max(0, (exposed.count - 5) / 2)]
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let rssMB = Double(usage.ru_maxrss) / 1024
        ddp.shutdown()
        if comm.rank == 0 {
            let samples = Double(batch * comm.size) / (ms * 1e-3)
            if json {
                print(#"{"bench":"step","workload":"\#(workload.rawValue)","threads":\#(threads),"precision":"\#(precision)","world":\#(comm.size),"ms_per_step":\#(ms),"samples_per_s":\#(samples),"peak_rss_mb":\#(rssMB),"exposed_comm_ms":\#(exposedMs)}"#)
            } else {
                print("step \(workload.rawValue) world \(comm.size) x \(threads) threads: \(ms) ms/step, \(samples) samples/s, exposed communication \(exposedMs) ms, peak RSS \(rssMB) MB")
            }
        }
        (comm as? MPICommunicator)?.finalize()
    }
}
