#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import TensorCore

/// The communicator of a plain run without mpirun: one rank, collectives are identities.
public final class SingleProcessCommunicator: Communicator {
    public let rank = 0, size = 1, localRank = 0, localSize = 1
    public init() {}

    public func allreduce(_ buffer: UnsafeMutablePointer<Float>, count: Int, op: ReduceOp) {}
    public func allreduce(_ buffer: UnsafeMutablePointer<Double>, count: Int, op: ReduceOp) {}
    public func reduceScatter(_ buffer: UnsafeMutablePointer<Int64>, blocks: [Range<Int>]) {}
    public func reduceScatter(_ buffer: UnsafeMutablePointer<Float>, blocks: [Range<Int>]) {}
    public func reduceScatterHalf(_ buffer: UnsafeMutablePointer<UInt16>, blocks: [Range<Int>], dtype: DType) {}
    public func allgather(_ buffer: UnsafeMutablePointer<Float>, blocks: [Range<Int>]) {}
    public func allreduceHalf(_ buffer: UnsafeMutablePointer<UInt16>, count: Int, dtype: DType) {}
    public func broadcast(_ buffer: UnsafeMutableRawPointer, bytes: Int, root: Int) {}
    public func allgather(_ input: UnsafeRawPointer, bytes: Int, into output: UnsafeMutableRawPointer) {
        output.copyMemory(from: input, byteCount: bytes)
    }
    public func barrier() {}
    public func abort(_ message: String) -> Never {
        fputs("tandem: error: \(message)\n", stderr)
        exit(1)
    }
}
