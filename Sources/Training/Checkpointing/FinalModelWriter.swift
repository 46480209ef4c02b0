import Checkpoint
import Foundation

extension Trainer {
    /// Writes the trained `model.safetensors` (rank 0, after the last checkpoint is written).
    ///
    /// On a full disk it frees the oldest checkpoint and tries once more; failing that, the
    /// checkpoint of the last step already holds the trained weights, and the run says so and
    /// keeps it as its result. Only when no checkpoint holds them either is it an error.
    func writeFinalModel(to outputs: RunOutputs) throws {
        let metadata = ["step": "\(step)", "config_hash": ConfigLoader.hash(config)]
        /// One try at the file: nil when it was written, else why not, in words.
        func save() -> String? {
            do {
                try ModelWeights.save(model, to: outputs.modelPath, metadata: metadata)
                removeStaleInt8Model(of: outputs)
                return nil
            } catch { return FileFailure.describe(error) }
        }
        guard var reason = save() else { return }
        if let freed = checkpoints?.store.removeOldest() {
            logger.warning(
                "\(outputs.modelPath) could not be written (\(reason)); removed the oldest checkpoint \(freed) and tried again"
            )
            guard let again = save() else { return }
            reason = again
        }
        let name = CheckpointStore.name(step: step)
        if let store = checkpoints?.store, (try? store.verify(name)) != nil {
            let folder = store.directory + "/" + name
            logger.warning(
                """
                \(outputs.modelPath) could not be written (\(reason)); the trained weights of step \(step) are in the \
                checkpoint \(folder), the run's result: `tandem export \(folder) --to FILE` writes them out once there is room
                """)
            return
        }
        throw TrainingError(
            "the trained model could not be written: \(outputs.modelPath): \(reason), and no checkpoint holds step "
                + "\(step)\(checkpointPolicy.lastGoodHint); free some space and resume the run")
    }

    /// A `model.int8.safetensors` quantized from earlier weights no longer matches the model:
    /// it is removed, and the log and terminal say how to make it again.
    func removeStaleInt8Model(of outputs: RunOutputs) {
        let int8 = outputs.directory + "/" + Int8ModelFile.name
        guard FileManager.default.fileExists(atPath: int8), (try? FileManager.default.removeItem(atPath: int8)) != nil
        else { return }
        logger.warning(
            """
            removed \(int8), which was quantized from the weights before this training; \
            run `tandem quantize \(outputs.directory)` again for an int8 model of the new weights
            """)
    }
}
