import Foundation

/// Whether the job's standard output reaches a terminal, which decides `logging.progress: auto`.
///
/// Under mpirun a rank's own output is always a pseudo-terminal (Open MPI's I/O forwarding opens
/// one per rank), so `isatty` says yes even when the job's output goes to a pipe or a file. What
/// counts is mpirun's own standard output: on the node that launched the job mpirun is the rank's
/// parent, so its descriptor 1 is read from /proc. Elsewhere (a remote node's orted) nothing tells,
/// and the answer is no: plain lines are always readable, escape codes in a log are not.
public enum JobTerminal {
    /// True when the job's standard output is a terminal.
    public static var isTerminal: Bool {
        isTerminal(
            ownOutputIsTerminal: isatty(STDOUT_FILENO) == 1,
            underMPI: ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_RANK"] != nil,
            launcherOutput: launcherOutputPath(parent: getppid()))
    }

    /// The decision, from what a rank can see.
    /// - Parameters:
    ///   - ownOutputIsTerminal: whether this process's standard output is a terminal.
    ///   - underMPI: whether mpirun (or its daemon) started this process.
    ///   - launcherOutput: where the parent's standard output points (`/dev/pts/3`, `pipe:[123]`),
    ///     when the parent is mpirun; nil when it is another process or cannot be read.
    public static func isTerminal(ownOutputIsTerminal: Bool, underMPI: Bool, launcherOutput: String?) -> Bool {
        guard ownOutputIsTerminal else { return false }
        guard underMPI else { return true }
        guard let launcherOutput else { return false }
        return launcherOutput.hasPrefix("/dev/pts/") || launcherOutput.hasPrefix("/dev/tty")
            || launcherOutput == "/dev/console"
    }

    /// The target of the parent's standard output, when the parent is mpirun (orterun), else nil.
    /// - Parameters:
    ///   - parent: the parent's process id.
    static func launcherOutputPath(parent: pid_t) -> String? {
        guard
            let name = try? String(contentsOfFile: "/proc/\(parent)/comm", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines),
            ["mpirun", "mpiexec", "orterun", "prterun"].contains(name)
        else { return nil }
        return try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(parent)/fd/1")
    }
}
