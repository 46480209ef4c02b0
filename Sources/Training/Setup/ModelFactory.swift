import Datasets
import Models
import NN
import TensorCore

/// Builds the model a config names, sized for its data.
public enum ModelFactory {
    /// - Parameters:
    ///   - config: `model:`.
    ///   - data: the training split, whose input shape and class count size the model.
    ///   - seed: initialisation seed (every rank builds the same weights; rank 0's are broadcast anyway).
    public static func make(_ config: ModelConfig, for data: any Dataset, seed: Int) throws -> any TrainableModel {
        let entry = config.name.entry
        return try AllocationFailure.labeled("the parameters of model \(config.name)", fix: "lower \(entry.sizeKeys)") {
            Init.seed(UInt64(seed))
            return try entry.build(config, data, seed)
        }
    }
}
