import Foundation

/// Rank 0's run directory: the resolved `config.yaml`, `metrics.jsonl` (and the same numbers
/// as TensorBoard scalars), `train.log` and the trained `model.safetensors`.
final class RunOutputs {
    let directory: String
    let metrics: MetricsWriter
    let tensorBoard: TensorBoardWriter?
    var logPath: String { directory + "/train.log" }
    var modelPath: String { directory + "/model.safetensors" }
    var checkpointDirectory: String { directory + "/checkpoints" }

    /// Creates the directory (and parents) and writes the resolved config.
    /// - Parameter resuming: the run continues in this directory (its metrics.jsonl is appended to).
    init(directory: String, config: TrainConfig, resuming: Bool = false) throws {
        self.directory = directory
        // Never mix two runs' metrics or overwrite a trained model, unless resuming the run.
        if !resuming && FileManager.default.fileExists(atPath: directory + "/metrics.jsonl") {
            throw TrainingError("the run directory \(directory) already holds a run (metrics.jsonl); choose another --run-dir, "
                + "remove it, or continue it with --resume auto")
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try ConfigLoader.yaml(config).write(toFile: directory + "/config.yaml", atomically: true, encoding: .utf8)
        } catch {
            throw TrainingError("cannot write the run directory \(directory): \(error.localizedDescription); choose another with --run-dir")
        }
        metrics = try MetricsWriter(path: directory + "/metrics.jsonl")
        tensorBoard = config.logging.tensorboard ? try TensorBoardWriter(directory: directory) : nil
    }

    /// Writes a metrics line to metrics.jsonl and to the TensorBoard file.
    func record(_ line: [String: Any]) {
        metrics.write(line)
        tensorBoard?.scalars(fromMetricsLine: line)
    }
}
