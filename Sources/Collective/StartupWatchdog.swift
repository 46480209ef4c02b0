#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import CMPI

/// Ends a job whose start hangs: MPI_Init, the communicators' setup and the first collectives
/// wait for every rank, and a rank that never starts or a host that cannot be reached would
/// otherwise hold the others there forever.
///
/// Armed before MPI_Init and disarmed once training can start; while armed, `phase` names
/// the step in progress for the message.
final class StartupWatchdog: @unchecked Sendable {
    private let timeout: Double
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var phase: StaticString = "starting", done = false

    /// Starts the countdown.
    /// - Parameter timeout: seconds the start may take.
    init(timeout: Double) {
        self.timeout = timeout
        pthread_mutex_init(lock, nil)
        var thread = pthread_t()
        let box = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(
            &thread, nil,
            { arg in
                Unmanaged<StartupWatchdog>.fromOpaque(arg!).takeRetainedValue().watch()
                return nil
            }, box)
        if rc == 0 { pthread_detach(thread) }
    }

    /// Names the step now in progress.
    func enter(_ phase: StaticString) {
        pthread_mutex_lock(lock)
        self.phase = phase
        pthread_mutex_unlock(lock)
    }

    /// The start is over; the countdown stops.
    func disarm() {
        pthread_mutex_lock(lock)
        done = true
        pthread_mutex_unlock(lock)
    }

    private func watch() {
        let start = Self.now()
        while Self.now() - start < timeout {
            usleep(100_000)
            pthread_mutex_lock(lock)
            let finished = done
            pthread_mutex_unlock(lock)
            if finished { return }
        }
        pthread_mutex_lock(lock)
        let (finished, phase) = (done, phase)
        pthread_mutex_unlock(lock)
        if finished { return }
        let rank = getenv("OMPI_COMM_WORLD_RANK").map { String(cString: $0) } ?? "?"
        let size = getenv("OMPI_COMM_WORLD_SIZE").map { String(cString: $0) } ?? "?"
        fputs("tandem: rank \(rank) of \(size): error: \(Self.message(phase: "\(phase)", timeout: timeout))\n", stderr)
        fflush(stderr)
        var initialized: Int32 = 0, finalized: Int32 = 0
        MPI_Initialized(&initialized)
        MPI_Finalized(&finalized)
        if initialized != 0 && finalized == 0 {
            ExitWatchdog.arm(seconds: 5, rank: Int(rank) ?? -1)
            MPI_Abort(tandem_mpi_comm_world(), 1)
        }
        // Before MPI_Init there is nothing to abort: mpirun ends the job when a rank exits non-zero.
        _exit(1)
    }

    /// The error: what did not finish, the likely causes, and the setting.
    /// - Parameters:
    ///   - phase: the step in progress.
    ///   - timeout: the limit that passed.
    static func message(phase: String, timeout: Double) -> String {
        "the job did not start within \(Int(timeout.rounded())) s (distributed.startup_timeout_seconds): "
            + "still in \(phase), which waits for every rank. A rank that did not start, a host that cannot be "
            + "reached (a failed link, a firewall, a wrong address in the hostfile or TANDEM_IFACE) or a rank "
            + "stopped at its start holds the others up; check that every host in the hostfile answers, or raise "
            + "distributed.startup_timeout_seconds when loading takes longer"
    }

    private static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }
}
