import Foundation
import Logging

/// How a run ends: stopped by a signal, or finished with its final evaluation and model.
extension Trainer {
    /// Ends a run a signal stopped, once its checkpoint is on disk.
    func stop(by signal: Int32, _ progress: ProgressReporter?) -> TrainResult {
        checkpoints?.finish()
        logger.notice("stopped by signal \(signal) at step \(step); the checkpoint is written")
        progress?.message("stopped by signal \(signal) at step \(step), epoch \(epoch + 1); checkpoint written")
        ddp.shutdown()
        return TrainResult(
            runDirectory: outputs?.directory, steps: step, epochs: epoch, stoppedEarly: false,
            validation: evaluation.lastValidation, final: nil, finalSplit: "", stoppedBySignal: signal)
    }

    /// Ends a finished run: the final evaluation, then the trained model once the last
    /// checkpoint is on disk.
    func finish(stoppedEarly: Bool, _ progress: ProgressReporter?) throws -> TrainResult {
        if let skipped = data.skipped, skipped.count > 0 {
            let files = skipped.all.map(\.description).joined(separator: "; ")
            logger.warning("\(skipped.count) image files were skipped (data.skip_bad_files): \(files)")
        }
        var final: EvaluationMetrics?
        let finalSplit = data.test == nil ? "validation" : "test"
        if config.training.testAtEnd, let test = data.test {
            let m = evaluation.evaluate(
                test, split: finalSplit, step: step, epoch: epoch - 1, detailed: true,
                position: position)
            progress?.message(EvaluationPass.summary(m, split: finalSplit, position: position))
            final = m
        } else if config.training.testAtEnd {
            final = evaluation.lastValidation  // the run ended with a validation pass; no need for a second one
        }
        checkpoints?.finish()  // the last checkpoint is on disk (or failed) before the model is written
        if let outputs, config.checkpointing.saveFinalModel { try writeFinalModel(to: outputs) }
        ddp.shutdown()
        return TrainResult(
            runDirectory: outputs?.directory, steps: step, epochs: epoch, stoppedEarly: stoppedEarly,
            validation: evaluation.lastValidation, final: final, finalSplit: finalSplit,
            stoppedBySignal: nil)
    }

    /// Where training stands, for messages: "after epoch 3" at an epoch's end, otherwise the step
    /// and the epoch in progress (epochs are counted from 1 in every message).
    var position: String {
        positionInEpoch == 0 && step > 0
            ? "after epoch \(epoch)"
            : "at step \(step) (epoch \(epoch + 1) of \(config.training.epochs), part-way)"
    }
}
