import Foundation
import Synchronization

/// A sample that cannot be loaded where no error can be thrown (`Dataset.batch(_:)`,
/// `BatchLoader.next()`) goes to `handler`, which reports it in words and ends the process,
/// as a failed allocation does; a command that runs under mpirun may install one that ends
/// every rank (by default mpirun ends the others when this rank exits with status 1).
public enum DatasetFailure {
    private static let state = Mutex<@Sendable (DatasetError) -> Never>(DatasetFailure.exitWithMessage)

    /// Reports `error` on standard error and exits with status 1.
    @Sendable public static func exitWithMessage(_ error: DatasetError) -> Never {
        fputs("tandem: error: \(error)\n", stderr)
        fflush(stderr)
        exit(1)
    }

    /// What an unthrowable load failure calls; it must not return.
    public static var handler: @Sendable (DatasetError) -> Never {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }

    /// Hands `error` to the handler (a `DatasetError` as it is, any other error in words).
    static func report(_ error: Error) -> Never {
        handler(error as? DatasetError ?? DatasetError("\(error)"))
    }
}
