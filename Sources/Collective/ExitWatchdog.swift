#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Ends this process when MPI_Abort does not.
///
/// MPI_Abort asks mpirun to end the job; a rank whose host is cut off from mpirun's cannot
/// reach it, and the call then never returns. Armed just before the call, this ends the
/// process a few seconds later, and Open MPI's daemon on this host with it: that daemon cannot
/// reach mpirun either and would otherwise outlive its ranks.
enum ExitWatchdog {
    /// Starts the countdown on a thread of its own.
    /// - Parameters:
    ///   - seconds: how long MPI_Abort may take.
    ///   - rank: this rank, for the message.
    static func arm(seconds: Double, rank: Int) {
        var thread = pthread_t()
        let context = UnsafeMutablePointer<(Double, Int)>.allocate(capacity: 1)
        context.initialize(to: (seconds, rank))
        let rc = pthread_create(
            &thread, nil,
            { arg in
                let (seconds, rank) = arg!.assumingMemoryBound(to: (Double, Int).self).pointee
                usleep(UInt32(seconds * 1e6))
                fputs(
                    "tandem: rank \(rank): MPI_Abort did not end this process within \(Int(seconds)) s (mpirun cannot be "
                        + "reached: is this host cut off?); exiting\n", stderr)
                ExitWatchdog.endDaemon()
                _exit(1)
            }, context)
        if rc == 0 { pthread_detach(thread) } else { _exit(1) }
    }

    /// Ends the parent process when it is Open MPI's `orted`: SIGTERM, then SIGKILL if it lingers.
    static func endDaemon() {
        let parent = getppid()
        guard parent > 1, isDaemon(parent) else { return }
        kill(parent, SIGTERM)
        for _ in 0..<20 where kill(parent, 0) == 0 && isDaemon(parent) { usleep(100_000) }
        if kill(parent, 0) == 0 && isDaemon(parent) { kill(parent, SIGKILL) }
    }

    /// True when process `pid` runs the `orted` program.
    static func isDaemon(_ pid: pid_t) -> Bool {
        guard let file = fopen("/proc/\(pid)/comm", "r") else { return false }
        defer { fclose(file) }
        var name = [CChar](repeating: 0, count: 64)
        guard fgets(&name, 64, file) != nil else { return false }
        return String(cString: name).hasPrefix("orted")
    }
}
