import CMPI
import Collective
import Foundation
import TensorCore

/// How a job ends on an error: the message in words, once per job, and the exit status
/// the commands promise (2 for a bad config or command line, 1 for a failure).
public enum JobFailure {
    /// Ends the job for an error every rank meets the same way (one derived from the config
    /// and the world size): rank 0 says it once and ends every rank with `status`.
    ///
    /// The other ranks stay silent and wait to be ended by rank 0's abort; should rank 0 not
    /// share the error after all, they say it themselves after `wait` seconds.
    /// - Parameters:
    ///   - comm: the world.
    ///   - message: the whole line, starting with the command's name.
    ///   - status: the job's exit status.
    ///   - wait: how long the other ranks give rank 0.
    public static func endTogether(_ comm: Communicator, _ message: String, status: Int32, wait: Double = 30) -> Never {
        if comm.rank == 0 {
            FileHandle.standardError.write(Data("\(message)\n".utf8))
            if comm.size > 1 { MPI_Abort(tandem_mpi_comm_world(), status) }
            exit(status)
        }
        // A loop: the stop handlers turn mpirun's SIGTERM into a flag, which would cut one sleep short.
        let deadline = Date().addingTimeInterval(wait)
        while Date() < deadline { usleep(100_000) }
        comm.abort(message)
    }

    /// Reports failed allocations on `comm` as the command's error (exit status 1 on every rank).
    ///
    /// The model's parameters (an allocation with a context) are the same on every rank, so
    /// that failure is said once; any other is said by the rank it happens on.
    /// - Parameters:
    ///   - comm: the world.
    ///   - command: e.g. "tandem train".
    public static func reportAllocationFailures(_ comm: Communicator, command: String) {
        nonisolated(unsafe) let world = comm
        AllocationFailure.handler = { failure in
            if failure.context != nil { endTogether(world, "\(command): \(failure)", status: 1) }
            JobFailure.fail(world, "\(command): \(failure)")
        }
    }

    /// Ends the job unless every rank runs the same resolved config; the message names the keys
    /// that differ and both values. Every rank compares the same gathered texts, so all of
    /// them reach the same verdict and rank 0 alone reports it.
    /// - Parameters:
    ///   - comm: the world.
    ///   - config: this rank's config.
    ///   - command: e.g. "tandem train".
    public static func requireSameConfig(_ comm: Communicator, _ config: TrainConfig, command: String) {
        guard comm.size > 1 else { return }
        let mine = (try? ConfigLoader.yaml(config)) ?? "\(config)"
        let all = comm.allgather(mine)
        guard let (rank, text) = all.enumerated().dropFirst().first(where: { $0.element != all[0] }) else { return }
        let differences = ConfigDifference.between(all[0], text)
        let listed =
            differences.prefix(10)
            .map { "\($0.key) is \($0.first) on rank 0 and \($0.second) on rank \(rank)" }
            .joined(separator: "; ") + (differences.count > 10 ? "; and \(differences.count - 10) more keys" : "")
        endTogether(
            comm,
            "\(command): rank \(rank) was started with a different config from rank 0: \(listed). "
                + "Start every rank with the same config file and the same --set options.", status: 2)
    }
}

extension JobFailure {
    /// `error` in words: a Foundation file error (NSCocoaErrorDomain) becomes its path and the
    /// system's reason (FileFailure); other errors already describe themselves.
    public static func text(_ error: Error) -> String {
        let reason = FileFailure.describe(error)
        guard let cocoa = error as? CocoaError, let path = cocoa.filePath ?? cocoa.url?.path else { return reason }
        return "\(path): \(reason)"
    }

    /// Reports `message` and ends the job with status 1: every rank when under mpirun, so none
    /// is left waiting.
    /// - Parameters:
    ///   - comm: the world.
    ///   - message: the whole line, starting with the command's name.
    public static func fail(_ comm: Communicator, _ message: String) -> Never {
        if comm.size > 1 { comm.abort(message) }
        FileHandle.standardError.write(Data("\(message)\n".utf8))
        Foundation.exit(1)
    }
}
