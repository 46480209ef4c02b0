import TensorCore

/// The reduction an allreduce applies.
public enum ReduceOp: Sendable { case sum, max }

/// The collective operations data parallelism needs, over one group of ranks.
///
/// Every collective must be called by every rank in the same order; `abort` ends the whole
/// job from any one rank, so a failing rank never leaves the others waiting.
public protocol Communicator: AnyObject {
    var rank: Int { get }
    var size: Int { get }
    /// Rank among the processes on this node, and their count.
    var localRank: Int { get }
    var localSize: Int { get }

    /// In-place allreduce of `count` floats.
    func allreduce(_ buffer: UnsafeMutablePointer<Float>, count: Int, op: ReduceOp)
    /// In-place allreduce of `count` doubles (metrics, norms: exact enough to agree on decisions).
    func allreduce(_ buffer: UnsafeMutablePointer<Double>, count: Int, op: ReduceOp)
    /// Sums 64-bit integers over the ranks and leaves each rank its own block of the total:
    /// on return `buffer[blocks[rank]]` holds the sum of every rank's values there (the other
    /// blocks hold partial sums). Integer sums are exact, so the result never depends on the
    /// order of additions (deterministic mode's fixed-point gradients).
    /// - Parameters:
    ///   - buffer: the values, as many as the blocks cover; summed in place.
    ///   - blocks: one contiguous range per rank, in rank order, together covering the values.
    func reduceScatter(_ buffer: UnsafeMutablePointer<Int64>, blocks: [Range<Int>])
    /// The same for floats (a sharded optimizer's gradients): block r ends holding the sum
    /// over the ranks on rank r. With two ranks each sum is one addition, so it equals an
    /// allreduce's to the bit.
    func reduceScatter(_ buffer: UnsafeMutablePointer<Float>, blocks: [Range<Int>])
    /// The same for 16-bit floats of `dtype`, each addition done in fp32 and rounded once,
    /// as `allreduceHalf`.
    func reduceScatterHalf(_ buffer: UnsafeMutablePointer<UInt16>, blocks: [Range<Int>], dtype: DType)
    /// In place: every rank receives block r of `buffer` (`blocks[r]`) from rank r.
    func allgather(_ buffer: UnsafeMutablePointer<Float>, blocks: [Range<Int>])
    /// In-place sum of `count` 16-bit floats of `dtype`; each pairwise addition is done in
    /// fp32 and rounded once, so only the transport is 16-bit.
    func allreduceHalf(_ buffer: UnsafeMutablePointer<UInt16>, count: Int, dtype: DType)
    /// Copies `bytes` from `root` into every rank's buffer.
    func broadcast(_ buffer: UnsafeMutableRawPointer, bytes: Int, root: Int)
    /// Gathers `bytes` from every rank into `output` (size · bytes), in rank order.
    func allgather(_ input: UnsafeRawPointer, bytes: Int, into output: UnsafeMutableRawPointer)
    func barrier()
    /// Runs `body`, a collective made without MPI (through shared memory), watched like the
    /// MPI ones: the stall inspector names the ranks that never arrive.
    /// - Parameters:
    ///   - kind: what it is, with a `%d` for `count`.
    ///   - count: how many values.
    ///   - body: the collective itself.
    func collective(_ kind: StaticString, count: Int, _ body: () -> Void)
    /// Ends every rank of the job with `message`, printed by this rank.
    func abort(_ message: String) -> Never
}

extension Communicator {
    public func collective(_ kind: StaticString, count: Int, _ body: () -> Void) { body() }

    /// `count` values cut into one block per rank, in rank order, each a multiple of 16
    /// values (64-byte lines) except the last, for `reduceScatter` and the in-place `allgather`.
    public func blocks(count: Int) -> [Range<Int>] {
        let per = (count + 16 * size - 1) / (16 * size) * 16
        return (0..<size).map { r in min(r * per, count)..<min((r + 1) * per, count) }
    }

    /// Allreduce of Double values, returned.
    public func allreduce(_ values: [Double], op: ReduceOp = .sum) -> [Double] {
        var v = values
        v.withUnsafeMutableBufferPointer { allreduce($0.baseAddress!, count: $0.count, op: op) }
        return v
    }

    /// Broadcast of an array's bytes from `root`.
    public func broadcast(_ array: NDArray, root: Int = 0) {
        broadcast(array.storage.raw, bytes: array.count * array.dtype.byteSize, root: root)
    }

    /// Every rank's string, in rank order (lengths are gathered first, so they may differ).
    public func allgather(_ text: String) -> [String] {
        let bytes = Array(text.utf8)
        var length = Double(bytes.count)
        let maxLength = Int(
            withUnsafeMutablePointer(to: &length) { p -> Double in
                allreduce(p, count: 1, op: .max); return p.pointee
            })
        var padded = bytes + [UInt8](repeating: 0, count: maxLength - bytes.count)
        var out = [UInt8](repeating: 0, count: maxLength * size)
        if maxLength > 0 {
            padded.withUnsafeMutableBytes { src in
                out.withUnsafeMutableBytes { dst in
                    allgather(src.baseAddress!, bytes: maxLength, into: dst.baseAddress!)
                }
            }
        }
        return (0..<size).map { r in
            let chunk = out[(r * maxLength)..<((r + 1) * maxLength)]
            return String(decoding: chunk.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// Every rank's values concatenated in rank order; ranks may contribute different counts.
    public func allgather(_ values: [Float]) -> [Float] { allgatherVariable(values) }

    /// Every rank's values concatenated in rank order; ranks may contribute different counts.
    public func allgather(_ values: [Double]) -> [Double] { allgatherVariable(values) }

    private func allgatherVariable<T: BinaryFloatingPoint>(_ values: [T]) -> [T] {
        var count = Int64(values.count)
        var counts = [Int64](repeating: 0, count: size)
        counts.withUnsafeMutableBytes { out in allgather(&count, bytes: 8, into: out.baseAddress!) }
        let longest = Int(counts.max() ?? 0)
        guard longest > 0 else { return [] }
        var padded = values + [T](repeating: 0, count: longest - values.count)
        var gathered = [T](repeating: 0, count: longest * size)
        padded.withUnsafeMutableBytes { src in
            gathered.withUnsafeMutableBytes { dst in
                allgather(src.baseAddress!, bytes: longest * MemoryLayout<T>.stride, into: dst.baseAddress!)
            }
        }
        return (0..<size).flatMap { r in gathered[(r * longest)..<(r * longest + Int(counts[r]))] }
    }

    /// Runs `body`; an error thrown on this rank aborts the whole job with its message.
    public func abortOnError<R>(_ body: () throws -> R) -> R {
        do { return try body() } catch { abort("\(error)") }
    }
}
