import Foundation

/// Rank 0's run directory: the resolved `config.yaml`, `metrics.jsonl` (and the same numbers
/// as TensorBoard scalars), `train.log` and the trained `model.safetensors`, under a lock that
/// keeps a second job out.
final class RunOutputs {
    let directory: String
    /// The type name of a model built in code (nil for a registered model).
    let customModel: String?
    let metrics: MetricsWriter
    let tensorBoard: TensorBoardWriter?
    let lock: RunLock
    var logPath: String { directory + "/train.log" }
    var modelPath: String { directory + "/model.safetensors" }
    var checkpointDirectory: String { directory + "/checkpoints" }
    /// What opening the directory found and repaired (a torn metrics line, a stale lock), for the log.
    var notes: [String] { [lock.takeoverNote, metrics.repairNote].compactMap { $0 } }

    /// Creates the directory (and parents), takes its lock and writes the resolved config.
    /// - Parameter resuming: the run continues in this directory (its metrics.jsonl is appended to).
    /// - Parameters:
    ///   - directory: the run directory, created if missing.
    ///   - config: the run's config, written as config.yaml.
    ///   - resuming: the directory may already hold this run.
    ///   - customModel: the type name of a model built in code, marked in config.yaml so that the
    ///     commands, which cannot rebuild it, say so.
    init(directory: String, config: TrainConfig, resuming: Bool = false, customModel: String? = nil) throws {
        (self.directory, self.customModel) = (directory, customModel)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw TrainingError(
                "cannot create the run directory \(directory): \(FileFailure.describe(error)); choose another with --run-dir"
            )
        }
        lock = try RunLock(directory: directory)
        // Never mix two runs' metrics or overwrite a trained model, unless resuming the run. A start
        // that failed before its first step leaves an empty metrics.jsonl, which is no run.
        if !resuming && Self.holdsRun(directory) {
            throw TrainingError(
                "the run directory \(directory) already holds a run (metrics.jsonl); choose another --run-dir, "
                    + "remove it, or continue it with --resume auto")
        }
        try Self.write(config, to: directory, customModel: customModel)
        metrics = try MetricsWriter(path: directory + "/metrics.jsonl")
        tensorBoard = config.logging.tensorboard ? try TensorBoardWriter(directory: directory) : nil
    }

    /// True when `directory` has logged metrics, checkpoints or a trained model.
    static func holdsRun(_ directory: String) -> Bool {
        let fm = FileManager.default
        let size = (try? fm.attributesOfItem(atPath: directory + "/metrics.jsonl")[.size] as? Int) ?? 0
        return size > 0 || fm.fileExists(atPath: directory + "/checkpoints/latest")
            || fm.fileExists(atPath: directory + "/model.safetensors")
    }

    /// Writes `config` as the run's `config.yaml` (again when a resume changed the batch layout).
    /// - Parameters:
    ///   - config: the resolved config.
    ///   - directory: the run directory.
    ///   - customModel: the type name of a model built in code, if the run has one.
    static func write(_ config: TrainConfig, to directory: String, customModel: String? = nil) throws {
        let marker = customModel.map { ConfigLoader.customModelMarker + $0 + "\n" } ?? ""
        do {
            try (marker + ConfigLoader.yaml(config)).write(
                toFile: directory + "/config.yaml", atomically: true, encoding: .utf8)
        } catch {
            throw TrainingError(
                "cannot write \(directory)/config.yaml: \(FileFailure.describe(error)); free some space or choose another --run-dir"
            )
        }
    }

    /// Writes the config a resume resolved (the batch kept on another world size); a failure
    /// only leaves the earlier config.yaml, which `tandem resume` maps again the same way.
    func rewriteConfig(_ config: TrainConfig) {
        try? Self.write(config, to: directory, customModel: customModel)
    }

    /// Writes a metrics line to metrics.jsonl and to the TensorBoard file.
    func record(_ line: [String: Any]) {
        metrics.write(line)
        tensorBoard?.scalars(fromMetricsLine: line)
    }
}
