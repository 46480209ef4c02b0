import Datasets
import Foundation
import Models
import TensorCore
import Training

/// Accuracy measured as a user's own metric: the share of rows whose largest logit is the target.
struct OwnAccuracy: EvaluationMetric {
    let name = "own_accuracy"

    func measure(outputs: NDArray, batch: Batch) -> (sum: Double, count: Double) {
        let rows = outputs.shape[0], classes = outputs.shape[1], targets = batch.flatTargets.int32Pointer
        var correct = 0
        for r in 0..<rows {
            let row = UnsafeBufferPointer(start: outputs.ptr + r * classes, count: classes)
            if row.indices.max(by: { row[$0] < row[$1] }) == Int(targets[r]) { correct += 1 }
        }
        return (Double(correct), Double(rows))
    }
}

extension MPICheck {
    /// Trains a config's registered model through the library's path: the data and the model built
    /// by the program and handed to `TrainingJob`, with one metric of its own.
    func libraryTrain() throws -> Never {
        let config = try ConfigLoader.load(path: self.config, overrides: overrides)
        let job = TrainingJob(config: config, runDirectory: runDir, metrics: [OwnAccuracy()])
        let outcome = job.run(
            data: { try DataSplits.load($0.data, seed: $0.seed) },
            model: { config, data in try ModelFactory.make(config.model, for: data.train, seed: config.seed) })
        Foundation.exit(outcome.exitStatus)
    }
}
