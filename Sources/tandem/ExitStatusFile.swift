import Foundation

/// The file named by TANDEM_EXIT_STATUS_FILE, where rank 0 records the job's exit status for the
/// launch scripts. Open MPI's mpirun exits 1 after it is sent SIGTERM or SIGINT whatever the ranks
/// return, so a script that reads 75 here knows the ranks stopped with a whole checkpoint.
enum ExitStatusFile {
    static let variable = "TANDEM_EXIT_STATUS_FILE"

    /// Writes `status` and a line saying why into the file, when the variable names one.
    /// - Parameters:
    ///   - status: the exit status the job should have (75 after a stop with a checkpoint).
    ///   - reason: one line for a person reading the file.
    static func record(_ status: Int32, reason: String) {
        guard let path = ProcessInfo.processInfo.environment[variable], !path.isEmpty else { return }
        let text = "\(status)\n\(reason)\n"
        // The launch script reads it right after mpirun exits; a failed write only loses the mapping of
        // mpirun's 1 to 75, so it is reported and the run's own result stands.
        if !FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) {
            FileHandle.standardError.write(Data("""
                tandem train: warning: could not write the exit status to \(path) (\(variable)); \
                the launch script may report status 1 although the checkpoint is whole\n
                """.utf8))
        }
    }
}
