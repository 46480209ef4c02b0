import Datasets
import Foundation

extension RunOutputs {
    /// Writes what applying the data's encoding again needs (`tandem eval`, predictions): the
    /// class names (`classes.txt`, one per line in label order), a table's statistics
    /// (`table_statistics.json`) and the per-channel normalisation (`normalization.json`).
    func record(_ data: DataSplits) throws {
        do {
            if let names = data.classNames {
                try (names.joined(separator: "\n") + "\n").write(
                    toFile: directory + "/classes.txt", atomically: true, encoding: .utf8)
            }
            try data.tableStatistics?.save(to: directory + "/table_statistics.json")
            if let normalization = data.normalization {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                try encoder.encode(normalization).write(to: URL(fileURLWithPath: directory + "/normalization.json"))
            }
        } catch let error as DatasetError {
            throw TrainingError("cannot write the data's statistics into \(directory): \(error)")
        } catch {
            throw TrainingError(
                "cannot write the data's statistics into \(directory): \(FileFailure.describe(error)); "
                    + "free some space or choose another --run-dir")
        }
    }
}
