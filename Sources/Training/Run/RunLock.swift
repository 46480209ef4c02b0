import Foundation

/// One job per run directory: an advisory `flock` on `RUN/.lock`, held by rank 0 for as long
/// as the run is open, with the holder's PID, host and start time written inside.
///
/// A second job on the same directory is refused with the first one's PID and host. The kernel
/// drops the lock when its process dies, so a job killed outright never blocks the next; its
/// details are still in the file, and the next job says that it took the lock over.
final class RunLock {
    let path: String
    private var fd: Int32
    /// Set when the previous holder ended without releasing the lock (killed), for the log.
    private(set) var takeoverNote: String?

    /// Takes the lock of `directory` or throws, naming the job that holds it.
    init(directory: String) throws {
        path = directory + "/.lock"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw TrainingError(
                "cannot create the lock file \(path): \(FileFailure.reason(errno)); choose a writable --run-dir")
        }
        let holder = Self.read(fd)
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            close(fd)
            guard code == EWOULDBLOCK else {
                throw TrainingError("cannot lock \(path): \(FileFailure.reason(code)); choose another --run-dir")
            }
            throw TrainingError(
                "the run directory \(directory) is in use by another tandem job (\(holder.isEmpty ? "holder unknown" : holder)); "
                    + "wait for it to end or stop it, or choose another --run-dir")
        }
        if !holder.isEmpty {
            takeoverNote = "took over the lock of \(directory) from a job that ended without releasing it (\(holder))"
        }
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count - 1)
        let stamp = ISO8601DateFormatter().string(from: Date())
        let text = "PID \(getpid()) on host \(String(cString: host)), started \(stamp)"
        ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    /// The holder's line in the lock file ("" when empty).
    private static func read(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 512)
        let n = pread(fd, &buffer, buffer.count, 0)
        return n > 0
            ? String(decoding: buffer[..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : ""
    }

    /// Empties the file (a clean end) and drops the lock; later calls do nothing.
    func release() {
        guard fd >= 0 else { return }
        ftruncate(fd, 0)
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    deinit { release() }
}
