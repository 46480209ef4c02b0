#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import CMPI

/// Reports collectives that some ranks wait in while others never arrive, as Horovod's stall
/// check does, on every rank.
///
/// A blocked `MPI_Allreduce` cannot say who it waits for, so every rank keeps a count of the
/// collectives it has entered, and a background thread sends that state to every other rank
/// as a heartbeat on a communicator of its own. Each rank's thread compares the ranks
/// (`StallView`): when one has waited in collective #k for `warnAfter` seconds, the ranks that
/// have not entered #k, and those not heard from at all, hold the job up. The lowest rank not
/// missing names them (again every `warnAfter` seconds) and, after `abortAfter`, ends the job,
/// so a stopped rank 0 is reported by rank 1, and a rank cut off from the rest ends itself.
final class StallInspector: @unchecked Sendable {
    typealias RankState = StallView.RankState

    private let rank: Int32, size: Int32
    private let hosts: [String]
    private let channel: MPI_Comm
    private let warnAfter: Double, abortAfter: Double?
    private let report: (String) -> Void
    private let abort: (String, Bool) -> Never

    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// This rank's state; the label is kept as its parts and only spelt out by the thread,
    /// so a collective costs a lock and three stores, never a string.
    private var entered: Int64 = 0, waiting = false, kind: StaticString = "", count = 0
    private var stopping = false
    private var thread = pthread_t()

    /// - Parameters:
    ///   - channel: a communicator used by nothing else (a duplicate of the world).
    ///   - hosts: each rank's host name, for the messages.
    ///   - warnAfter: seconds a rank may wait in one collective before the missing ranks are named.
    ///   - abortAfter: seconds after which the job is ended (nil: warn only).
    ///   - report: where warnings go.
    ///   - abort: ends the job with a message; true when this rank has heard from no other.
    init(
        rank: Int, size: Int, hosts: [String], channel: MPI_Comm, warnAfter: Double, abortAfter: Double?,
        report: @escaping (String) -> Void, abort: @escaping (String, Bool) -> Never
    ) {
        self.rank = Int32(rank); self.size = Int32(size); self.hosts = hosts; self.channel = channel
        self.warnAfter = warnAfter; self.abortAfter = abortAfter
        self.report = report; self.abort = abort
        pthread_mutex_init(lock, nil)
        let box = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(
            &thread, nil,
            { arg in
                Unmanaged<StallInspector>.fromOpaque(arg!).takeRetainedValue().loop()
                return nil
            }, box)
        precondition(rc == 0, "could not start the stall inspector thread: error \(rc)")
    }

    /// This rank starts a collective, e.g. ("allreduce of %d floats", 1024) (called on
    /// whichever thread issues it).
    /// - Parameters:
    ///   - kind: what it is, with a `%d` for `count`.
    ///   - count: how many values or bytes.
    func enter(_ kind: StaticString, count: Int) {
        pthread_mutex_lock(lock)
        entered += 1
        waiting = true
        self.kind = kind
        self.count = count
        pthread_mutex_unlock(lock)
    }

    /// This rank's collective returned.
    func leave() {
        pthread_mutex_lock(lock)
        waiting = false
        pthread_mutex_unlock(lock)
    }

    /// Stops the thread; call before MPI_Finalize.
    func stop() {
        pthread_mutex_lock(lock)
        stopping = true
        pthread_mutex_unlock(lock)
        pthread_join(thread, nil)
    }

    private func snapshot() -> (RankState, Bool) {
        pthread_mutex_lock(lock)
        let (entered, waiting, kind, count, stopping) = (entered, waiting, kind, count, stopping)
        pthread_mutex_unlock(lock)
        let label = "\(kind)".replacing("%d", with: String(count))
        return (RankState(entered: entered, waiting: waiting, label: label), stopping)
    }

    /// Wire form of a heartbeat: entered, waiting, seconds in this state, then the label's UTF-8 bytes.
    private static let messageBytes = 128, tag: Int32 = 7

    /// The thread: every tick it reads the heartbeats that arrived, sends its own to every
    /// other rank, and looks for a stall.
    private func loop() {
        // A tick is at most a tenth of the warning time, so a warning is at most that late.
        let tick = max(0.01, min(1, warnAfter / 10))
        // Heartbeats come every tick; a few missed ones on a loaded machine are not silence.
        let silentAfter = max(warnAfter, 3), staleAfter = max(3 * tick, 1)
        let n = Int(size), me = Int(rank), bytes = Self.messageBytes
        var view = StallView(rank: me, hosts: hosts, now: Self.now())
        var sent = RankState(), sentAt = Self.now()
        // One send buffer and request per peer: a peer that is stopped or cut off cannot
        // receive, so it gets no new heartbeat until its last one has gone (never a blocking send).
        let outgoing = UnsafeMutablePointer<UInt8>.allocate(capacity: n * bytes)
        var requests = [MPI_Request?](repeating: tandem_mpi_request_null(), count: n)
        var incoming = [UInt8](repeating: 0, count: bytes)
        var lastWarning: Int64 = 0, warnedAt = 0.0
        defer {
            for r in 0..<n where requests[r] != tandem_mpi_request_null() { MPI_Request_free(&requests[r]) }
            outgoing.deallocate()
        }
        while true {
            let (state, stop) = snapshot()
            if stop { return }
            var now = Self.now()
            if state != sent { sent = state; sentAt = now }
            view.record(me, state, inStateFor: 0, now: now)
            var flag: Int32 = 0
            var status = MPI_Status()
            while MPI_Iprobe(tandem_mpi_any_source(), Self.tag, channel, &flag, &status) == tandem_mpi_success(),
                flag != 0
            {
                MPI_Recv(
                    &incoming, Int32(bytes), tandem_mpi_byte(), status.MPI_SOURCE, Self.tag, channel,
                    tandem_mpi_status_ignore())
                let (peer, inState) = Self.decode(incoming)
                view.record(Int(status.MPI_SOURCE), peer, inStateFor: inState, now: Self.now())
            }
            now = Self.now()
            for r in 0..<n where r != me {
                var done: Int32 = 1
                if requests[r] != tandem_mpi_request_null() {
                    MPI_Test(&requests[r], &done, tandem_mpi_status_ignore())
                }
                guard done != 0 else { continue }
                let buffer = outgoing + r * bytes
                Self.encode(state, inStateFor: now - sentAt, into: buffer)
                MPI_Isend(buffer, Int32(bytes), tandem_mpi_byte(), Int32(r), Self.tag, channel, &requests[r])
            }
            if let stall = view.stall(now: now, after: warnAfter, silentAfter: silentAfter, staleAfter: staleAfter) {
                let reporting = stall.reporter == me
                // Should the reporter's abort not end the job, the others end it a little later.
                if let abortAfter, stall.seconds >= abortAfter + (reporting ? 0 : max(10, warnAfter)) {
                    let ending =
                        "; ending the job after \(Stall.format(abortAfter)) s "
                        + "(distributed.stall_abort_seconds)"
                    abort(stall.description + ending, stall.cutOff)
                }
                if reporting && (stall.collective != lastWarning || stall.seconds - warnedAt >= warnAfter) {
                    report(stall.description)
                    lastWarning = stall.collective; warnedAt = stall.seconds
                }
            }
            usleep(UInt32(tick * 1e6))
        }
    }

    private static func encode(_ s: RankState, inStateFor: Double, into bytes: UnsafeMutablePointer<UInt8>) {
        withUnsafeBytes(of: s.entered.littleEndian) { for i in 0..<8 { bytes[i] = $0[i] } }
        bytes[8] = s.waiting ? 1 : 0
        withUnsafeBytes(of: inStateFor.bitPattern.littleEndian) { for i in 0..<8 { bytes[9 + i] = $0[i] } }
        let label = Array(s.label.utf8.prefix(messageBytes - 18))
        for i in 0..<(messageBytes - 17) { bytes[17 + i] = i < label.count ? label[i] : 0 }
    }

    private static func decode(_ bytes: [UInt8]) -> (RankState, Double) {
        var entered: Int64 = 0, seconds: UInt64 = 0
        for i in 0..<8 {
            entered |= Int64(bytes[i]) << (8 * Int64(i))
            seconds |= UInt64(bytes[9 + i]) << (8 * UInt64(i))
        }
        let label = bytes[17...].prefix { $0 != 0 }
        return (
            RankState(entered: entered, waiting: bytes[8] != 0, label: String(decoding: label, as: UTF8.self)),
            Double(bitPattern: seconds)
        )
    }

    private static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }
}
