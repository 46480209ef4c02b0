#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import CMPI
import TensorCore

/// The communicator over Open MPI's MPI_COMM_WORLD.
///
/// MPI is initialised with MPI_THREAD_MULTIPLE when available (the gradient reducer calls
/// MPI from its own thread while the main thread runs backward), otherwise SERIALIZED, which
/// is enough because the main thread makes no MPI call while the reducer is busy.
public final class MPICommunicator: Communicator {
    public let rank: Int, size: Int, localRank: Int, localSize: Int
    /// The thread level MPI granted.
    public let threadLevel: Int32
    private let world: MPI_Comm
    /// A duplicate of the world for the stall inspector's messages, which must never match a
    /// collective's.
    private var inspectorChannel: MPI_Comm?
    private var inspector: StallInspector?
    /// Each rank's host name, for the stall messages.
    public let hosts: [String]
    private let startup: StartupWatchdog?

    /// Initialises MPI (once per process) and describes the world.
    /// - Parameter startupTimeout: seconds MPI_Init, this setup and the caller's first collectives
    ///   may take before the job is ended with a message (nil: no limit); the caller says when
    ///   the start is over with `startupFinished()`.
    public init(startupTimeout: Double? = nil) {
        startup = startupTimeout.map { StartupWatchdog(timeout: $0) }
        startup?.enter("MPI_Init")
        var provided: Int32 = 0
        var initialized: Int32 = 0
        MPI_Initialized(&initialized)
        if initialized == 0 {
            let rc = MPI_Init_thread(nil, nil, tandem_mpi_thread_multiple(), &provided)
            precondition(rc == tandem_mpi_success(), "MPI_Init_thread failed with code \(rc)")
        } else {
            MPI_Query_thread(&provided)
        }
        precondition(
            provided >= tandem_mpi_thread_serialized(),
            "the MPI library offers thread level \(provided); Tandem needs MPI_THREAD_SERIALIZED or better")
        threadLevel = provided
        world = tandem_mpi_comm_world()
        startup?.enter("the communicators' setup (MPI_Comm_split_type, MPI_Comm_dup, MPI_Allgather)")
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_rank(world, &r)
        MPI_Comm_size(world, &s)
        rank = Int(r); size = Int(s)
        var local: MPI_Comm? = nil
        MPI_Comm_split_type(world, tandem_mpi_comm_type_shared(), r, tandem_mpi_info_null(), &local)
        var lr: Int32 = 0, ls: Int32 = 0
        MPI_Comm_rank(local, &lr)
        MPI_Comm_size(local, &ls)
        MPI_Comm_free(&local)
        localRank = Int(lr); localSize = Int(ls)
        MPI_Comm_dup(world, &inspectorChannel)
        hosts = Self.gatherHosts(world, size: Int(s))
        startup?.enter("the first collectives (the model's broadcast and the ranks' checks)")
    }

    /// The start is over: the startup watchdog stops.
    public func startupFinished() {
        startup?.disarm()
    }

    /// Every rank's host name (MPI_Get_processor_name), in rank order.
    private static func gatherHosts(_ world: MPI_Comm, size: Int) -> [String] {
        let bytes = Int(tandem_mpi_max_processor_name())
        var mine = [CChar](repeating: 0, count: bytes), length: Int32 = 0
        MPI_Get_processor_name(&mine, &length)
        var all = [CChar](repeating: 0, count: bytes * size)
        MPI_Allgather(&mine, Int32(bytes), tandem_mpi_char(), &all, Int32(bytes), tandem_mpi_char(), world)
        return (0..<size).map { r in
            let name = all[(r * bytes)..<((r + 1) * bytes)].prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            return String(decoding: name, as: UTF8.self)
        }
    }

    /// Starts reporting stalled collectives (see `StallInspector`); every rank watches, and the
    /// lowest rank that is not missing reports.
    ///
    /// - Parameters:
    ///   - warnAfter: seconds a rank may wait in one collective before the ranks that have not
    ///     arrived are named.
    ///   - abortAfter: seconds after which the job is ended instead (nil: never).
    ///   - report: receives this rank's warnings.
    /// - Returns: false when MPI runs without MPI_THREAD_MULTIPLE, which the inspector's thread needs.
    @discardableResult
    public func inspectStalls(warnAfter: Double, abortAfter: Double?, report: @escaping (String) -> Void) -> Bool {
        inspector?.stop()
        inspector = nil
        guard threadLevel >= tandem_mpi_thread_multiple(), size > 1, let channel = inspectorChannel else {
            return false
        }
        inspector = StallInspector(
            rank: rank, size: size, hosts: hosts, channel: channel, warnAfter: warnAfter,
            abortAfter: abortAfter, report: report,
            abort: { [unowned self] in self.abort($0, cutOff: $1) })
        return true
    }

    /// True when this process was started by mpirun (or another PMIx launcher).
    public static var launchedByMPI: Bool {
        getenv("OMPI_COMM_WORLD_SIZE") != nil || getenv("PMIX_RANK") != nil
    }

    /// Finalises MPI; call once at the end of a job.
    public func finalize() {
        startup?.disarm()
        inspector?.stop()
        inspector = nil
        MPI_Finalize()
    }

    static func mpiOp(_ op: ReduceOp) -> MPI_Op { op == .sum ? tandem_mpi_sum() : tandem_mpi_max() }

    private func check(_ rc: Int32, _ what: String) {
        if rc != tandem_mpi_success() { abort("\(what) failed with MPI error \(rc)") }
    }

    public func allreduce(_ buffer: UnsafeMutablePointer<Float>, count: Int, op: ReduceOp) {
        inspector?.enter("allreduce of %d floats", count: count); defer { inspector?.leave() }
        check(
            MPI_Allreduce(tandem_mpi_in_place(), buffer, Int32(count), tandem_mpi_float(), Self.mpiOp(op), world),
            "MPI_Allreduce")
    }

    public func allreduce(_ buffer: UnsafeMutablePointer<Double>, count: Int, op: ReduceOp) {
        inspector?.enter("allreduce of %d doubles", count: count); defer { inspector?.leave() }
        check(
            MPI_Allreduce(tandem_mpi_in_place(), buffer, Int32(count), tandem_mpi_double(), Self.mpiOp(op), world),
            "MPI_Allreduce")
    }

    /// A ring over point-to-point messages: in step s, rank r sends block r-s-1 (its running
    /// sum) to rank r+1 and adds block r-s-2 from rank r-1 into its own, so after size-1 steps
    /// block r holds every rank's contribution. Each rank sends (size-1)/size of the values
    /// once. Open MPI 4.1's own `MPI_Reduce_scatter` took about as long as the whole int64
    /// allreduce on two ranks (0.21 against 0.29 ms with its decode, for 1.9 MB); this ring
    /// with the decode and the fp32 allgather after it took 0.25 ms (launch/bench/reduce_scatter.c).
    public func reduceScatter(_ buffer: UnsafeMutablePointer<Int64>, blocks: [Range<Int>]) {
        ring(buffer, blocks: blocks, datatype: tandem_mpi_int64(), what: "reduce-scatter of %d int64") {
            sums, incoming, n in
            for i in 0..<n { sums[i] &+= incoming[i] }
        }
    }

    public func reduceScatter(_ buffer: UnsafeMutablePointer<Float>, blocks: [Range<Int>]) {
        ring(buffer, blocks: blocks, datatype: tandem_mpi_float(), what: "reduce-scatter of %d floats") {
            sums, incoming, n in
            for i in 0..<n { sums[i] += incoming[i] }
        }
    }

    public func reduceScatterHalf(_ buffer: UnsafeMutablePointer<UInt16>, blocks: [Range<Int>], dtype: DType) {
        ring(buffer, blocks: blocks, datatype: tandem_mpi_uint16(), what: "reduce-scatter of %d 16-bit floats") {
            sums, incoming, n in
            HalfCast.addBlock(incoming, sums, n, dtype)
        }
    }

    /// The ring reduce-scatter of the three methods above; `add(sums, incoming, n)` adds a
    /// received block into this rank's running sums.
    private func ring<T>(
        _ buffer: UnsafeMutablePointer<T>, blocks: [Range<Int>], datatype: MPI_Datatype, what: StaticString,
        add: (UnsafeMutablePointer<T>, UnsafeMutablePointer<T>, Int) -> Void
    ) {
        precondition(blocks.count == size, "\(blocks.count) blocks for \(size) ranks")
        guard size > 1 else { return }
        let count = blocks.last!.upperBound
        inspector?.enter(what, count: count); defer { inspector?.leave() }
        let incoming = ringBuffer(bytes: blocks.map(\.count).max()! * MemoryLayout<T>.stride).assumingMemoryBound(
            to: T.self)
        let next = Int32((rank + 1) % size), previous = Int32((rank + size - 1) % size)
        for step in 0..<(size - 1) {
            let send = blocks[(rank - step - 1 + 2 * size) % size],
                receive = blocks[(rank - step - 2 + 2 * size) % size]
            check(
                MPI_Sendrecv(
                    buffer + send.lowerBound, Int32(send.count), datatype, next, 71,
                    incoming, Int32(receive.count), datatype, previous, 71, world, tandem_mpi_status_ignore()),
                "MPI_Sendrecv (reduce-scatter)")
            add(buffer + receive.lowerBound, incoming, receive.count)
        }
    }

    /// The ring's receive buffer, kept between calls (deterministic mode runs the ring every
    /// step). The ring, like any collective here, is never run by two threads at once.
    private var ringScratch = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64), ringScratchBytes = 64

    deinit { ringScratch.deallocate() }

    private func ringBuffer(bytes: Int) -> UnsafeMutableRawPointer {
        if bytes > ringScratchBytes {
            ringScratch.deallocate()
            ringScratch = .allocate(byteCount: bytes, alignment: 64)
            ringScratchBytes = bytes
        }
        return ringScratch
    }

    /// A ring too: in step s rank r passes block r-s on to rank r+1 and receives block r-s-1
    /// from rank r-1 straight into its place. In the MLP step on two ranks (0.47 MB blocks,
    /// timed by a temporary instrumented build in noisy minutes) Open MPI 4.1's in-place
    /// `MPI_Allgatherv` took 94-102 µs and this ring 69-72 µs.
    public func allgather(_ buffer: UnsafeMutablePointer<Float>, blocks: [Range<Int>]) {
        precondition(blocks.count == size, "\(blocks.count) blocks for \(size) ranks")
        guard size > 1 else { return }
        inspector?.enter("allgather of %d floats", count: blocks.last!.upperBound); defer { inspector?.leave() }
        let next = Int32((rank + 1) % size), previous = Int32((rank + size - 1) % size)
        for step in 0..<(size - 1) {
            let send = blocks[(rank - step + size) % size], receive = blocks[(rank - step - 1 + 2 * size) % size]
            check(
                MPI_Sendrecv(
                    buffer + send.lowerBound, Int32(send.count), tandem_mpi_float(), next, 72,
                    buffer + receive.lowerBound, Int32(receive.count), tandem_mpi_float(), previous, 72, world,
                    tandem_mpi_status_ignore()),
                "MPI_Sendrecv (allgather)")
        }
    }

    public func allreduceHalf(_ buffer: UnsafeMutablePointer<UInt16>, count: Int, dtype: DType) {
        let op = dtype == .float16 ? HalfSumOps.float16 : HalfSumOps.bfloat16
        inspector?.enter("allreduce of %d 16-bit floats", count: count); defer { inspector?.leave() }
        check(
            MPI_Allreduce(tandem_mpi_in_place(), buffer, Int32(count), tandem_mpi_uint16(), op, world),
            "MPI_Allreduce (16-bit)")
    }

    public func broadcast(_ buffer: UnsafeMutableRawPointer, bytes: Int, root: Int) {
        inspector?.enter("broadcast of %d bytes", count: bytes); defer { inspector?.leave() }
        check(MPI_Bcast(buffer, Int32(bytes), tandem_mpi_byte(), Int32(root), world), "MPI_Bcast")
    }

    public func allgather(_ input: UnsafeRawPointer, bytes: Int, into output: UnsafeMutableRawPointer) {
        inspector?.enter("allgather of %d bytes", count: bytes); defer { inspector?.leave() }
        check(
            MPI_Allgather(input, Int32(bytes), tandem_mpi_byte(), output, Int32(bytes), tandem_mpi_byte(), world),
            "MPI_Allgather")
    }

    public func barrier() {
        inspector?.enter("barrier", count: 0); defer { inspector?.leave() }
        check(MPI_Barrier(world), "MPI_Barrier")
    }

    public func collective(_ kind: StaticString, count: Int, _ body: () -> Void) {
        inspector?.enter(kind, count: count); defer { inspector?.leave() }
        body()
    }

    public func abort(_ message: String) -> Never {
        abort(message, cutOff: false)
    }

    /// Ends the job with `message`; a rank cut off from every other cannot reach mpirun to do
    /// so, and ends itself and Open MPI's daemon on its host instead.
    func abort(_ message: String, cutOff: Bool) -> Never {
        fputs("tandem: rank \(rank) of \(size): error: \(message)\n", stderr)
        fflush(stderr)
        if cutOff {
            let daemon =
                ExitWatchdog.isDaemon(getppid())
                ? " and Open MPI's daemon on this host, which cannot reach "
                    + "mpirun either" : ""
            fputs("tandem: rank \(rank) hears from no other rank: ending this process\(daemon)\n", stderr)
            fflush(stderr)
            ExitWatchdog.endDaemon()
            _exit(1)
        }
        ExitWatchdog.arm(seconds: 5, rank: rank)
        MPI_Abort(world, 1)
        exit(1)
    }
}

/// User-defined MPI reductions that add 16-bit floats in fp32 and round the sum once.
///
/// MPI callbacks are C function pointers and cannot capture context, hence one per format.
/// Created lazily, so after MPI_Init.
enum HalfSumOps {
    static let float16: MPI_Op = make { input, inout_, length, _ in
        HalfCast.addBlock(
            input!.assumingMemoryBound(to: UInt16.self), inout_!.assumingMemoryBound(to: UInt16.self),
            Int(length!.pointee), .float16)
    }

    static let bfloat16: MPI_Op = make { input, inout_, length, _ in
        HalfCast.addBlock(
            input!.assumingMemoryBound(to: UInt16.self), inout_!.assumingMemoryBound(to: UInt16.self),
            Int(length!.pointee), .bfloat16)
    }

    private static func make(
        _ kernel:
            @escaping @convention(c) (
                UnsafeMutableRawPointer?, UnsafeMutableRawPointer?,
                UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<MPI_Datatype?>?
            ) -> Void
    ) -> MPI_Op {
        var op: MPI_Op? = nil
        let rc = MPI_Op_create(kernel, 1, &op)
        precondition(rc == tandem_mpi_success() && op != nil, "MPI_Op_create failed with code \(rc)")
        return op!
    }
}
