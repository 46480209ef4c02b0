import Foundation

/// The file named by TANDEM_EXIT_STATUS_FILE, where rank 0 records the job's exit status for the
/// launch scripts. Open MPI's mpirun exits 1 after it is sent SIGTERM or SIGINT whatever the ranks
/// return, so a script that reads 75 here knows the ranks stopped with a whole checkpoint.
enum ExitStatusFile {
    static let variable = "TANDEM_EXIT_STATUS_FILE"

    /// The file's path, when the launcher set the variable.
    static var path: String? {
        ProcessInfo.processInfo.environment[variable].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Writes `status` and a line saying why into the file, when the variable names one.
    /// - Parameters:
    ///   - status: the exit status the job should have (75 after a stop with a checkpoint).
    ///   - reason: one line for a person reading the file.
    /// - Returns: whether the file was written.
    @discardableResult
    static func record(_ status: Int32, reason: String) -> Bool {
        guard let path else { return false }
        let text = "\(status)\n\(reason)\n"
        // The launch script reads it after mpirun exits; on a failed write rank 0 exits 75 itself.
        if FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) { return true }
        FileHandle.standardError.write(
            Data(
                """
                warning: could not write the exit status to \(path) (\(variable)); \
                rank 0 exits with \(status) itself, and mpirun may take its kill sequence's waits to end the job\n
                """.utf8))
        return false
    }
}
