import Checkpoint
import Dispatch
import Foundation
import Logging
import TensorCore

/// Rank 0's checkpoint writer: takes a snapshot at a step boundary (copies of the arrays) and
/// writes it on a background queue while training goes on.
///
/// Writes are serialised: a new snapshot waits for the previous write. A failed write (full
/// disk, unwritable folder) is logged and training continues; the store's atomic folder
/// rename and `latest` pointer leave earlier checkpoints intact.
final class CheckpointWriter {
    let store: CheckpointStore
    let keepLast: Int
    let logger: Logger
    private let queue = DispatchQueue(label: "tandem.checkpoint")
    private let group = DispatchGroup()
    /// Checkpoints written and failed, for the log and tests.
    private(set) var written: [String] = []
    private(set) var failures: [String] = []
    private let lock = NSLock()
    /// Writes that failed since the last one that succeeded (only the writer's queue touches it).
    private var failedInARow = 0

    init(directory: String, keepLast: Int, logger: Logger) {
        store = CheckpointStore(directory: directory)
        self.keepLast = keepLast
        self.logger = logger
    }

    /// Queues `snapshot` for writing as folder `name`; returns at once.
    /// - Parameter sequence: part of the retained sequence (updates `latest`), or kept aside (best).
    func write(_ snapshot: CheckpointSnapshot, name: String, sequence: Bool = true) {
        group.wait()  // one write at a time, in order
        queue.async(group: group) { [self] in
            do {
                let started = Date()
                let path = try snapshot.write(to: store, name: name, updateLatest: sequence)
                let seconds = Date().timeIntervalSince(started)
                if sequence { store.retain(keep: keepLast) }
                lock.withLock { written.append(path) }
                // The time tells how much grace a preemption needs (TANDEM_STOP_GRACE_SECONDS).
                logger.info("checkpoint written: \(path) (\(String(format: "%.2f", seconds)) s)")
                if failedInARow > 0 {
                    logger.warning("checkpoint \(name) written; the \(failedInARow) before it could not be")
                }
                failedInARow = 0
            } catch {
                lock.withLock { failures.append("\(error)") }
                // The first failure of a series is a warning; the rest (a full disk) go to the log only.
                let text =
                    "checkpoint \(name) could not be written: \(error); training goes on, earlier checkpoints are intact"
                if failedInARow == 0 {
                    logger.warning("\(text) (later failures are in train.log)")
                } else {
                    logger.info("\(text)")
                }
                failedInARow += 1
            }
        }
    }

    /// Waits for the write in flight.
    func finish() { group.wait() }
}

/// A copy of everything a checkpoint holds, taken between two steps.
struct CheckpointSnapshot {
    var manifest: CheckpointManifest
    /// file name -> named arrays (copies, so training may go on).
    let files: [String: [(String, NDArray)]]

    /// Encodes the data files, then writes the folder through `store`.
    func write(to store: CheckpointStore, name: String, updateLatest: Bool) throws -> String {
        var data: [String: Data] = [:]
        for (file, tensors) in files {
            data[file] = try SafeTensors.encode(tensors, metadata: ["format": "tandem-checkpoint"])
        }
        return try store.write(name: name, files: data, updateLatest: updateLatest) { records in
            var m = manifest
            m.files = records
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            return try encoder.encode(m)
        }
    }
}
