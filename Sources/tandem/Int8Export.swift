import Checkpoint
import Foundation
import Models
import Training

/// The int8 model that `tandem export --format onnx --int8` writes: a run's model with the
/// int8 numbers of its quantized file installed in every site the file quantizes.
enum Int8Export {
    /// Reads either int8 form: the per-layer file (`tandem-int8-layers`) as `tandem eval` does,
    /// the fused MLP/LeNet-5 file (`tandem-int8`) through the same five tensors per layer.
    /// - Parameters:
    ///   - path: the int8 file.
    ///   - run: the run directory, for messages.
    ///   - config: the run's config.
    ///   - data: the run's data (its training split sizes the model).
    static func model(_ path: String, run: String, config: TrainConfig, data: DataSplits) throws
        -> any TrainableModel
    {
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw CheckpointError(
                "no int8 model at \(path): make it with `tandem quantize \(run)`, or name the file with --int8-file")
        }
        let (tensors, metadata) = try SafeTensors.decode(bytes, name: path)
        guard metadata["format"] == "tandem-int8" else {
            return try Int8ModelFile.open(path, config: config, train: data.train)  // checks format and model
        }
        guard metadata["model"] == config.model.name.rawValue else {
            throw CheckpointError(
                "\(path) is an int8 model of \(metadata["model"] ?? "no model"), not of this run's "
                    + "\(config.model.name); quantize the run again with `tandem quantize \(run)`")
        }
        let model = try ModelFactory.make(config.model, for: data.train, seed: config.seed)
        model.eval()
        let suffix = ".input_scale"
        let sites = tensors.keys.filter { $0.hasSuffix(suffix) }.map { String($0.dropLast(suffix.count)) }.sorted()
        try Int8LayerFile.install(tensors, siteNames: sites, into: model, path: path)
        return model
    }
}
