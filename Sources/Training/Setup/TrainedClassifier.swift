import Datasets
import Foundation
import Models

/// A classifier trained by an earlier run, rebuilt from its run directory (config.yaml and
/// model.safetensors): the scorer of a generator's images, or a distillation teacher.
public enum TrainedClassifier {
    /// - Parameters:
    ///   - runDirectory: a finished classifier run on the same data.
    ///   - data: the split that sizes the model (input shape, classes).
    ///   - key: the config key that named the run, for error messages.
    /// - Returns: the classifier in evaluation mode, and its run's config.
    public static func load(runDirectory: String, data: any Dataset, key: String) throws -> (
        classifier: any Classifier, config: TrainConfig
    ) {
        let path = (runDirectory as NSString).expandingTildeInPath
        let config: TrainConfig
        do { config = try ConfigLoader.load(path: path + "/config.yaml") } catch {
            throw ConfigError(
                "\(key) \(runDirectory) is not a run directory with config.yaml (\(error)); "
                    + "train a classifier first, e.g. tandem train configs/resnet_fmnist.yaml, and give its run directory"
            )
        }
        guard let classifier = try ModelFactory.make(config.model, for: data, seed: config.seed) as? any Classifier
        else {
            throw ConfigError("\(key) \(runDirectory) trained \(config.model.name), which is not a classifier")
        }
        try ModelWeights.load(classifier, from: path + "/model.safetensors")
        classifier.eval()
        return (classifier, config)
    }
}
