import Checkpoint
import Datasets
import Foundation
import Models

/// A trained model rebuilt from its run directory or one of its checkpoints, with the data it
/// was trained on (which gives the encoding of new inputs: image size, normalisation, table
/// statistics, class names, the text's vocabulary).
public struct TrainedRun {
    /// What the user named: a run directory, a checkpoint folder or a `.safetensors` file.
    public let path: String
    public let config: TrainConfig
    public let data: DataSplits
    /// In evaluation mode, with the trained weights.
    public let model: any TrainableModel
    /// The weights file loaded.
    public let weights: String

    /// Where the config and the weights of `path` are.
    /// - Parameter path: a run directory, a checkpoint folder, or a `.safetensors` file beside the run's config.yaml.
    /// - Returns: the config text's source (config.yaml or a checkpoint's manifest.json) and the weights.
    static func files(of path: String) -> (config: String, isManifest: Bool, weights: String) {
        if path.hasSuffix(".safetensors") {
            let directory = (path as NSString).deletingLastPathComponent
            return ((directory.isEmpty ? "." : directory) + "/config.yaml", false, path)
        }
        let manifest = path + "/" + CheckpointStore.manifestName
        if FileManager.default.fileExists(atPath: manifest) {
            return (manifest, true, path + "/" + ResumePoint.modelFile)
        }
        return (path + "/config.yaml", false, path + "/" + ResumePoint.modelFile)
    }

    /// Reads the config, loads the data and the model, and loads the weights.
    /// - Parameters:
    ///   - path: a run directory, a checkpoint folder, or a `.safetensors` file beside the run's config.yaml.
    ///   - overrides: `key=value` assignments on top of the run's config (e.g. a moved data folder).
    /// - Throws: `PredictionMistake` for a path that is not a run or a run without its model file,
    ///   `ConfigError` for a config that does not load, the data's and the weights' errors otherwise.
    public static func open(_ path: String, overrides: [String] = []) throws -> TrainedRun {
        let (configPath, isManifest, weights) = files(of: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw PredictionMistake(
                "\(path): no such run directory, checkpoint folder or .safetensors file; give the --run-dir of "
                    + "a finished tandem train")
        }
        let config: TrainConfig
        if isManifest {
            let manifest: CheckpointManifest
            do {
                manifest = try JSONDecoder().decode(
                    CheckpointManifest.self, from: Data(contentsOf: URL(fileURLWithPath: configPath)))
            } catch is DecodingError {
                throw CheckpointError(
                    "\(configPath) is not a readable checkpoint manifest (the checkpoint is damaged); check it with "
                        + "`tandem inspect \(path)`, or predict with another checkpoint or the run directory")
            }
            config = try ConfigLoader.parse(yaml: manifest.config, source: configPath, overrides: overrides)
        } else {
            guard FileManager.default.fileExists(atPath: configPath) else {
                throw PredictionMistake(
                    "\(path) is not a run directory (it has no config.yaml) nor a checkpoint folder (no "
                        + "manifest.json); give the --run-dir of a tandem train, or one of its checkpoints/ folders")
            }
            config = try ConfigLoader.load(path: configPath, overrides: overrides)
        }
        guard FileManager.default.fileExists(atPath: weights) else {
            throw PredictionMistake(
                "\(path) has no model file \(weights): the run has not finished; finish it with `tandem resume "
                    + "\(path)`, or predict with one of its checkpoints: `tandem predict \(path)/checkpoints/NAME`")
        }
        let data = try DataSplits.load(config.data, seed: config.seed)
        let model = try ModelFactory.make(config.model, for: data.train, seed: config.seed)
        try ModelWeights.load(model, from: weights)
        model.eval()
        return TrainedRun(path: path, config: config, data: data, model: model, weights: weights)
    }

    /// The class names in label order: an image folder's folders, a table's labels, Fashion-MNIST's
    /// kinds of clothing, or `class 0`, `class 1`, ... when the data names none.
    public var classNames: [String] {
        let count = data.train.classCount
        if let names = data.classNames, names.count == count { return names }
        if config.data.name == .fashion_mnist && count == FashionMNIST.classNames.count {
            return FashionMNIST.classNames
        }
        return (0..<count).map { "class \($0)" }
    }

    /// What the model is, in the words of a message: `model.name mlp on data.name csv`.
    public var described: String { "model.name \(config.model.name) on data.name \(config.data.name)" }
}
