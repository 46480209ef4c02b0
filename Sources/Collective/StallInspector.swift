#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CMPI

/// Reports collectives that some ranks wait in while others never arrive, as Horovod's stall check does.
///
/// A blocked `MPI_Allreduce` cannot say who it waits for, so every rank keeps a count of the
/// collectives it has entered and a background thread sends changes of that state to rank 0
/// on a communicator of its own. Rank 0's thread compares the ranks: when one has waited in
/// collective #k for `warnAfter` seconds, the ranks that have not entered #k yet are the ones
/// holding the job up, and they are named (again every `warnAfter` seconds while it lasts).
/// With `abortAfter` the job is ended instead of hanging forever.
final class StallInspector: @unchecked Sendable {
    /// What one rank is doing, as rank 0 last heard it.
    struct RankState: Equatable {
        /// Collectives entered so far; the current one is number `entered` when `waiting`.
        var entered: Int64 = 0
        var waiting = false
        var label = ""
    }

    private let rank: Int32, size: Int32
    private let channel: MPI_Comm
    private let warnAfter: Double, abortAfter: Double?
    private let report: (String) -> Void
    private let abort: (String) -> Never

    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// This rank's state; the label is kept as its parts and only spelt out by the thread,
    /// so a collective costs a lock and three stores, never a string.
    private var entered: Int64 = 0, waiting = false, kind: StaticString = "", count = 0
    private var stopping = false
    private var thread = pthread_t()

    /// - Parameters:
    ///   - channel: a communicator used by nothing else (a duplicate of the world).
    ///   - warnAfter: seconds a rank may wait in one collective before the missing ranks are named.
    ///   - abortAfter: seconds after which rank 0 ends the job (nil: warn only).
    ///   - report: where rank 0's warnings go.
    ///   - abort: ends the job with a message.
    init(rank: Int, size: Int, channel: MPI_Comm, warnAfter: Double, abortAfter: Double?,
         report: @escaping (String) -> Void, abort: @escaping (String) -> Never) {
        self.rank = Int32(rank); self.size = Int32(size); self.channel = channel
        self.warnAfter = warnAfter; self.abortAfter = abortAfter
        self.report = report; self.abort = abort
        pthread_mutex_init(lock, nil)
        let box = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(&thread, nil, { arg in
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

    /// Wire form of a state: entered, waiting, then the label's UTF-8 bytes.
    private static let messageBytes = 128, tag: Int32 = 7

    private func loop() {
        // Checks often enough that a warning is at most a tenth of the threshold late.
        let interval = UInt32(max(0.01, min(1, warnAfter / 10)) * 1e6)
        var sent = RankState()
        var table = [RankState](repeating: RankState(), count: Int(size))
        var since = [Double](repeating: Self.now(), count: Int(size))
        var lastWarning: Int64 = 0, warnedAt = 0.0
        var message = [UInt8](repeating: 0, count: Self.messageBytes)
        while true {
            let (state, stop) = snapshot()
            if stop { return }
            if rank == 0 {
                if state != table[0] { table[0] = state; since[0] = Self.now() }
                // Drain every state the other ranks sent since the last look.
                var flag: Int32 = 0
                var status = MPI_Status()
                while MPI_Iprobe(tandem_mpi_any_source(), Self.tag, channel, &flag, &status) == tandem_mpi_success(), flag != 0 {
                    MPI_Recv(&message, Int32(Self.messageBytes), tandem_mpi_byte(), status.MPI_SOURCE, Self.tag, channel,
                             tandem_mpi_status_ignore())
                    let r = Int(status.MPI_SOURCE), decoded = Self.decode(message)
                    if decoded != table[r] { table[r] = decoded; since[r] = Self.now() }
                }
                if let stall = Self.stall(table, since: since, now: Self.now(), after: warnAfter) {
                    if let abortAfter, stall.seconds >= abortAfter {
                        abort(stall.description + "; ending the job after \(Stall.format(abortAfter)) s (distributed.stall_abort_seconds)")
                    }
                    if stall.collective != lastWarning || stall.seconds - warnedAt >= warnAfter {
                        report(stall.description)
                        lastWarning = stall.collective; warnedAt = stall.seconds
                    }
                }
            } else if state != sent {
                Self.encode(state, into: &message)
                // Small messages go eagerly, so this does not wait for rank 0 to look.
                MPI_Send(&message, Int32(Self.messageBytes), tandem_mpi_byte(), 0, Self.tag, channel)
                sent = state
            }
            usleep(interval)
        }
    }

    /// A collective some ranks have waited in for at least `after` seconds, and who is missing.
    struct Stall: CustomStringConvertible {
        let collective: Int64, label: String, seconds: Double
        let waiting: [Int], missing: [(rank: Int, state: RankState, seconds: Double)]

        var description: String {
            let behind = missing.map { m -> String in
                let last = m.state.entered == 0 ? "has not entered any collective"
                    : m.state.waiting ? "waits in collective #\(m.state.entered) (\(m.state.label))"
                    : "finished collective #\(m.state.entered) (\(m.state.label)) \(Self.format(m.seconds)) s ago"
                return "rank \(m.rank) \(last)"
            }
            return "stalled collective: \(Self.ranks(waiting, "has", "have")) waited \(Self.format(seconds)) s in collective #\(collective) "
                + "(\(label)); \(Self.ranks(missing.map(\.rank), "has", "have")) not arrived: " + behind.joined(separator: "; ")
                + ". A rank stuck outside MPI (data loading, a checkpoint, a deadlock) holds up the others; "
                + "ranks running different configs or data call collectives out of step"
        }

        /// "rank 2 has" or "ranks 0, 1 have".
        static func ranks(_ ranks: [Int], _ one: String, _ many: String) -> String {
            ranks.count == 1 ? "rank \(ranks[0]) \(one)" : "ranks \(ranks.map(String.init).joined(separator: ", ")) \(many)"
        }
        static func format(_ s: Double) -> String { String(Int(s.rounded())) }
    }

    /// The oldest wait that has lasted `after` seconds, with the ranks that have not entered it.
    static func stall(_ table: [RankState], since: [Double], now: Double, after: Double) -> Stall? {
        let waits = table.indices.filter { table[$0].waiting && now - since[$0] >= after }
        guard let first = waits.max(by: { table[$0].entered < table[$1].entered }) else { return nil }
        let k = table[first].entered
        let missing = table.indices.filter { table[$0].entered < k }
        guard !missing.isEmpty else { return nil }
        let waiting = table.indices.filter { table[$0].waiting && table[$0].entered == k }
        return Stall(collective: k, label: table[first].label,
                     seconds: waiting.map { now - since[$0] }.max() ?? 0, waiting: waiting,
                     missing: missing.map { ($0, table[$0], now - since[$0]) })
    }

    private static func encode(_ s: RankState, into bytes: inout [UInt8]) {
        withUnsafeBytes(of: s.entered.littleEndian) { for i in 0..<8 { bytes[i] = $0[i] } }
        bytes[8] = s.waiting ? 1 : 0
        let label = Array(s.label.utf8.prefix(messageBytes - 10))
        for i in 0..<(messageBytes - 9) { bytes[9 + i] = i < label.count ? label[i] : 0 }
    }

    private static func decode(_ bytes: [UInt8]) -> RankState {
        var entered: Int64 = 0
        for i in 0..<8 { entered |= Int64(bytes[i]) << (8 * Int64(i)) }
        let label = bytes[9...].prefix { $0 != 0 }
        return RankState(entered: entered, waiting: bytes[8] != 0, label: String(decoding: label, as: UTF8.self))
    }

    private static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }
}
