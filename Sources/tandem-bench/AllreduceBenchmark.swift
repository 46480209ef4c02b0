import ArgumentParser
import Collective
import TensorCore

/// `tandem-bench allreduce`: the gradient path's allreduce against one raw MPI_Allreduce.
///
/// The gradient path is the one `DistributedDataParallel` uses: buckets summed on the
/// communication thread, the 1/world of the mean left to the optimizer's own pass. With
/// `--shard-optimizer` it is the sharded optimizer's communication instead: each bucket
/// reduce-scattered, then allgathered (what the parameters take after the update).
/// With every rank on one node the gradient path sums through shared memory, as DDP does,
/// unless `--shared-memory false`.
struct AllreduceBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allreduce",
        abstract: "Time averaging --bytes of gradients through GradientReducer and through one raw MPI_Allreduce.")

    @Option(help: "Gradient bytes (float32).") var bytes = 16 << 20
    @Option(help: "Bucket size of the gradient path, in bytes (DDP's default 25 MiB).") var bucketBytes = 25 << 20
    @Option(help: "Timed repetitions.") var runs = 20
    @Flag(help: "Time the sharded optimizer's reduce-scatter and allgather instead of the allreduce.")
    var shardOptimizer = false
    @Option(
        help:
            "Sum through shared memory when every rank runs on this node (distributed.shared_memory; not with --shard-optimizer)."
    )
    var sharedMemory = true
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        guard bytes >= 4, runs >= 1 else { throw ValidationError("--bytes must be at least 4 and --runs at least 1") }
        let comm: Communicator = MPICommunicator.launchedByMPI ? MPICommunicator() : SingleProcessCommunicator()
        let n = bytes / 4
        // Allocated as DistributedDataParallel places its gradients; the raw MPI_Allreduce reuses them.
        let shared =
            sharedMemory && !shardOptimizer && SharedMemoryAllreduce.applies(to: comm)
            ? try SharedMemoryAllreduce(communicator: comm, count: n) : nil
        let grads = NDArray(shape: [n], storage: shared?.makeStorage() ?? Storage(hugePagesFor: n * 4))
        // 64 parameters of equal size, like a model's gradient arena.
        let per = max(1, n / 64)
        let slices = stride(from: 0, to: n, by: per).map { GradientReducer.Slice(offset: $0, count: min(per, n - $0)) }
        let reducer = GradientReducer(
            communicator: comm, gradients: grads, parameters: slices,
            bucketBytes: bucketBytes, firstBucketBytes: min(bucketBytes, 1 << 20),
            scalesAfterSum: false, sharded: shardOptimizer && comm.size > 1, sharedMemory: shared)
        // Check first: rank r contributes r + 1 everywhere, so the sum is size (size + 1) / 2.
        grads.ptr.update(repeating: Float(comm.rank + 1), count: n)
        for i in slices.indices.reversed() { reducer.markReady(i) }
        reducer.finish()
        reducer.allgather(grads)  // sharded: every rank's summed blocks to every rank; else nothing
        let expected = Float(comm.size * (comm.size + 1) / 2)
        if (0..<n).contains(where: { grads.ptr[$0] != expected }) {
            comm.abort("allreduce check failed: expected every element to be \(expected)")
        }
        let path = Stopwatch.medianMs(warmup: 3, runs: runs) {
            comm.barrier()
            for i in slices.indices.reversed() { reducer.markReady(i) }
            reducer.finish()
            reducer.allgather(grads)
        }
        let raw = Stopwatch.medianMs(warmup: 3, runs: runs) {
            comm.barrier()
            comm.allreduce(grads.ptr, count: n, op: .sum)
        }
        reducer.shutdown()
        let w = Double(comm.size)
        let busbw = w > 1 ? 2 * (w - 1) / w * Double(bytes) / (path * 1e-3) / 1e9 : 0
        if comm.rank == 0 {
            if json {
                print(
                    #"{"bench":"allreduce","bytes":\#(bytes),"world":\#(comm.size),"sharded":\#(reducer.sharded),"shared_memory":\#(shared != nil),"buckets":\#(reducer.buckets.count),"ms":\#(path),"raw_ms":\#(raw),"busbw_gbs":\#(busbw)}"#
                )
            } else {
                print(
                    "allreduce \(bytes) bytes over \(comm.size) ranks: \(reducer.sharded ? "reduce-scatter + allgather" : shared != nil ? "gradient path through shared memory" : "gradient path") \(path) ms (\(reducer.buckets.count) buckets), raw MPI_Allreduce \(raw) ms, bus bandwidth \(busbw) GB/s"
                )
            }
        }
        (comm as? MPICommunicator)?.finalize()
    }
}
