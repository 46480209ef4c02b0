#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import CSupport
import TensorCore

/// Float arrays of one length, one per rank, that every rank of a single-node job maps into its
/// address space (POSIX shared memory), and the allreduce that sums them with loads and stores.
///
/// Open MPI's shared-memory transport copies a peer's buffer into memory of its own
/// (process_vm_readv) and adds it there. Here each rank adds its block of the range straight
/// out of every rank's array and stores the sum into every rank's array: nothing is staged or
/// copied, and the lines a rank stored into a peer's array reach that peer when it next reads
/// them (the optimizer's pass), rather than inside the allreduce. Summing into one's own array
/// and then copying the other blocks from their owners took 47-343 µs of the MLP's step on
/// two ranks against 24-32 for this (docs/BENCHMARKS.md, "Shared-memory allreduce on one node").
///
/// Every block is summed by one rank, over the ranks in rank order, so all ranks end with the
/// same bits (with two ranks, the bits of any allreduce: a + b = b + a). Ranks meet at two
/// barriers per allreduce, on a counter per rank in its segment's first line: when every
/// rank's values are final, and when every block is summed into every array, after which each
/// rank may write its array again (no rank touches another's array until the next allreduce's
/// first barrier). A rank that dies ends the job through mpirun; one that stalls is named by
/// the stall inspector, as in any collective (`Communicator.collective`).
public final class SharedMemoryAllreduce: @unchecked Sendable {
    public let rank: Int, size: Int
    /// Floats in each rank's array.
    public let count: Int
    /// Every rank's array, in rank order, as mapped here.
    private let arrays: [UnsafeMutablePointer<Float>]
    /// Every rank's barrier counter (in its segment's first line), in rank order.
    private let counters: [UnsafeMutablePointer<UInt64>]
    /// Barriers this rank has reached; the same on every rank between collectives.
    private var generation: UInt64 = 0
    private let mappings: [UnsafeMutableRawPointer]
    private let segmentBytes: Int
    private let communicator: Communicator

    /// Bytes before a segment's array: its counter, alone on its page.
    static let headerBytes = 4096

    /// Whether the ranks of `communicator` can share arrays: more than one, all on this node.
    public static func applies(to communicator: Communicator) -> Bool {
        communicator.size > 1 && communicator.localSize == communicator.size
    }

    /// Maps the arrays, zeroed. Collective over `communicator`, whose ranks must all run on
    /// this node (`applies(to:)`).
    /// - Throws: `SharedMemoryError`, on every rank, when any rank could not create or map its
    ///   segment (no room in /dev/shm, say): the message names the rank and the cause. No
    ///   segment is left behind in /dev/shm, then or after success.
    public init(communicator: Communicator, count: Int) throws {
        precondition(count > 0, "a shared array needs at least one float")
        precondition(
            Self.applies(to: communicator),
            "shared-memory allreduce needs every rank on this node (\(communicator.localSize) of \(communicator.size) are)"
        )
        rank = communicator.rank
        size = communicator.size
        self.count = count
        self.communicator = communicator
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        segmentBytes = Self.headerBytes + (count * 4 + page - 1) / page * page
        // One name per job: rank 0's process id and a random number, shared with the others.
        let token = communicator.allgather(rank == 0 ? "/tandem-\(getpid())-\(UInt64.random(in: 0...UInt64.max))" : "")[
            0]
        func name(_ r: Int) -> String { "\(token)-\(r)" }

        var mapped: [UnsafeMutableRawPointer?] = Array(repeating: nil, count: size)
        let created = Self.create(name(rank), bytes: segmentBytes)
        if case .success(let m) = created { mapped[rank] = m }
        // Every rank learns every rank's outcome before going on, so all fall back together.
        var failure = Self.agree(communicator, created.failure)
        if failure == nil {
            var problem: SharedMemoryError?
            for r in 0..<size where r != rank {
                switch Self.open(name(r), bytes: segmentBytes) {
                case .success(let m): mapped[r] = m
                case .failure(let error): problem = problem ?? error
                }
            }
            failure = Self.agree(communicator, problem)
        }
        // Every rank has mapped every segment (or given up): the names can go.
        communicator.barrier()
        if created.failure == nil { shm_unlink(name(rank)) }
        if let failure {
            for m in mapped.compactMap({ $0 }) { munmap(m, segmentBytes) }
            throw failure
        }
        mappings = mapped.map { $0! }
        counters = mappings.map { $0.assumingMemoryBound(to: UInt64.self) }
        arrays = mappings.map { ($0 + Self.headerBytes).assumingMemoryBound(to: Float.self) }
    }

    deinit { for m in mappings { munmap(m, segmentBytes) } }

    /// Whether `array` is this rank's shared array (what `allreduce` sums).
    public func holds(_ array: NDArray) -> Bool {
        array.storage.raw == UnsafeMutableRawPointer(arrays[rank]) && array.count <= count
    }

    /// This rank's array as tensor storage, which keeps the mapping alive (for
    /// `ParameterArena.moveGradients(to:)`). Call once: each call counts the array as live memory.
    public func makeStorage() -> Storage {
        Storage(mappedBy: self, raw: UnsafeMutableRawPointer(arrays[rank]), byteCount: count * 4)
    }

    /// Sums `range` of every rank's array into every rank's array. Collective: every rank calls
    /// it with the same arguments, in the same order as its other collectives.
    /// - Parameters:
    ///   - range: the elements to sum, the same on every rank.
    ///   - blocks: `range` cut into one block per rank, in rank order, relative to its
    ///     start (`Communicator.blocks(count:)`); rank r sums block r.
    public func allreduce(_ range: Range<Int>, blocks: [Range<Int>]) {
        precondition(
            range.lowerBound >= 0 && range.upperBound <= count && blocks.count == size
                && blocks.last?.upperBound == range.count,
            "allreduce of \(range) in blocks \(blocks) of an array of \(count)")
        communicator.collective("shared-memory allreduce of %d floats", count: range.count) {
            arrive()  // every rank's values are final
            let mine = blocks[rank]
            sum(range.lowerBound + mine.lowerBound, mine.count)
            arrive()  // every block is summed into every array
        }
    }

    /// arrays[r][offset..<offset + n] = the sum over ranks, in rank order, for every rank r.
    private func sum(_ offset: Int, _ n: Int) {
        var i = 0
        if size == 2 {
            // The common case, without the loops over ranks: with them (and an array of
            // pointers made per call), `tandem-bench allreduce --bytes 940584` took 0.100 ms, and
            // 0.048-0.055 without (the first version, which still copied the other block; runs
            // minutes apart).
            let a = UnsafeMutableRawPointer(arrays[0] + offset), b = UnsafeMutableRawPointer(arrays[1] + offset)
            while i + 8 <= n {
                let s =
                    a.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
                    + b.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
                a.storeBytes(of: s, toByteOffset: i &* 4, as: SIMD8<Float>.self)
                b.storeBytes(of: s, toByteOffset: i &* 4, as: SIMD8<Float>.self)
                i += 8
            }
        }
        while i + 8 <= n {
            var s = UnsafeRawPointer(arrays[0] + offset).loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
            for r in 1..<size {
                s += UnsafeRawPointer(arrays[r] + offset).loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
            }
            for r in 0..<size {
                UnsafeMutableRawPointer(arrays[r] + offset).storeBytes(
                    of: s, toByteOffset: i &* 4, as: SIMD8<Float>.self)
            }
            i += 8
        }
        while i < n {
            var s = arrays[0][offset + i]
            for r in 1..<size { s += arrays[r][offset + i] }
            for r in 0..<size { arrays[r][offset + i] = s }
            i += 1
        }
    }

    /// Waits until every rank has reached this barrier; this rank's stores before it are
    /// visible to every rank after it.
    private func arrive() {
        generation += 1
        tandem_store_release_u64(counters[rank], generation)
        for r in 0..<size where r != rank {
            var spin = SpinWait()
            while tandem_load_acquire_u64(counters[r]) < generation { spin.wait() }
        }
    }

    /// Creates, sizes, reserves and maps a segment; unlinks it again if any step fails.
    private static func create(_ name: String, bytes: Int) -> Result<UnsafeMutableRawPointer, SharedMemoryError> {
        let fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0o600)
        guard fd >= 0 else { return .failure(.init("cannot create shared memory \(name): \(errorText(errno))")) }
        let problem = reserve(fd, name: name, bytes: bytes)
        close(fd)
        let mapped = problem.map { .failure(SharedMemoryError($0)) } ?? open(name, bytes: bytes)
        if mapped.failure != nil { shm_unlink(name) }
        return mapped
    }

    /// Sizes a new segment and reserves its pages; the reason when it cannot.
    private static func reserve(_ fd: Int32, name: String, bytes: Int) -> String? {
        // Checked first: tmpfs would otherwise fill the node's memory page by page before saying no.
        if let free = freeBytes(in: "/dev/shm"), free < bytes {
            return "/dev/shm has \(free >> 20) MiB free and this rank needs \(bytes >> 20) MiB "
                + "for its gradients (containers often mount 64 MiB: docker run --shm-size)"
        }
        guard ftruncate(fd, off_t(bytes)) == 0 else { return "cannot size shared memory \(name): \(errorText(errno))" }
        // Reserved now, so that a full /dev/shm is this error and not a SIGBUS in backward.
        let rc = posix_fallocate(fd, 0, off_t(bytes))
        return rc == 0 ? nil : "cannot reserve \(bytes >> 20) MiB of shared memory in /dev/shm: \(errorText(rc))"
    }

    /// Bytes free to a writer in the file system at `path` (segments live in /dev/shm); nil
    /// when it cannot be read. Also what `tandem doctor` reports.
    public static func freeBytes(in path: String) -> Int? {
        var fs = statvfs()
        return statvfs(path, &fs) == 0 ? Int(fs.f_bavail) * Int(fs.f_frsize) : nil
    }

    /// Maps a segment (this rank's once created, or another rank's).
    private static func open(_ name: String, bytes: Int) -> Result<UnsafeMutableRawPointer, SharedMemoryError> {
        let fd = shm_open(name, O_RDWR, 0)
        guard fd >= 0 else { return .failure(.init("cannot open shared memory \(name): \(errorText(errno))")) }
        defer { close(fd) }
        guard let m = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), m != MAP_FAILED else {
            return .failure(.init("cannot map shared memory \(name): \(errorText(errno))"))
        }
        return .success(m)
    }

    private static func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// The first rank's problem, on every rank; nil when no rank had one.
    private static func agree(_ communicator: Communicator, _ problem: SharedMemoryError?) -> SharedMemoryError? {
        let all = communicator.allgather(problem?.message ?? "")
        guard let r = all.firstIndex(where: { !$0.isEmpty }) else { return nil }
        return SharedMemoryError("rank \(r): \(all[r])")
    }
}

/// Why the ranks could not share memory; the job goes on through MPI.
public struct SharedMemoryError: Error, CustomStringConvertible {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension Result {
    /// The error, if this is one.
    var failure: Failure? { if case .failure(let e) = self { e } else { nil } }
}
