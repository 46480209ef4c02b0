import Checkpoint
import Datasets
import Foundation
import Models
import NN
import TensorCore

/// A run's int8 model on disk, `model.int8.safetensors` beside its model.safetensors: what
/// `tandem quantize` writes and `tandem eval --int8` reads.
public enum Int8ModelFile {
    public static let name = "model.int8.safetensors"

    /// What `quantize` did.
    public struct Summary {
        public let path: String
        public let bytes: Int, floatBytes: Int
        /// Per int8 layer: its input range and the scale and zero point it gives.
        public let layers: [(name: String, low: Float, high: Float, scale: Float, zeroPoint: Int32)]
    }

    /// Quantizes the trained model of a run directory.
    /// - Parameters:
    ///   - runDirectory: a finished run (config.yaml, model.safetensors).
    ///   - method: how activation ranges are calibrated.
    ///   - percentile: for `.percentile`.
    ///   - samples: training images the calibration runs on (a seeded random sample).
    ///   - output: the file to write (nil: `name` in the run directory).
    ///   - checkpoint: a checkpoint folder of the run whose weights to quantize (nil: the final model.safetensors).
    public static func quantize(
        runDirectory: String, method: ActivationCalibration.Method, percentile: Double, samples: Int,
        output: String? = nil, checkpoint: String? = nil
    ) throws -> Summary {
        let weights = (checkpoint ?? runDirectory) + "/model.safetensors"
        let (config, data, model) = try loadRun(runDirectory, weights: weights)
        let plan = try InferencePlan(model, name: config.model.name)
        let shuffled = DistributedSampler(
            count: data.train.count, rank: 0, worldSize: 1, shuffle: true, seed: UInt64(config.seed),
            dropLast: false
        ).indices(epoch: 0)
        let order = shuffled.prefix(min(samples, shuffled.count))
        let batches = stride(from: 0, to: order.count, by: 256).map {
            data.train.batch(order[$0..<min($0 + 256, order.count)]).inputs
        }
        let ranges = ActivationCalibration.ranges(plan: plan, batches: batches, method: method, percentile: percentile)
        let tensors = QuantizedModel.quantize(plan, ranges: ranges)
        let path = output ?? runDirectory + "/" + name
        let bytes = try SafeTensors.encode(
            tensors,
            metadata: [
                "format": "tandem-int8", "model": config.model.name.rawValue, "calibration": method.rawValue,
                "percentile": method == .percentile ? "\(percentile)" : "", "calibration_samples": "\(order.count)",
                "config_hash": ConfigLoader.hash(config),
            ])
        try bytes.write(to: URL(fileURLWithPath: path), options: Data.WritingOptions.atomic)
        let floatBytes = (try? FileManager.default.attributesOfItem(atPath: weights)[.size] as? Int) ?? 0
        let byName = [String: NDArray](uniqueKeysWithValues: tensors)
        let layers = ranges.keys.sorted().map { layer -> (String, Float, Float, Float, Int32) in
            (
                layer, ranges[layer]!.low, ranges[layer]!.high, byName[layer + ".input_scale"]!.ptr[0],
                byName[layer + ".input_zero_point"]!.int32Pointer[0]
            )
        }
        return Summary(path: path, bytes: bytes.count, floatBytes: floatBytes, layers: layers)
    }

    /// The int8 model of a run directory, ready to evaluate.
    /// - Parameters:
    ///   - runDirectory: the run (its config.yaml rebuilds the model's structure).
    ///   - file: the int8 file (nil: `name` in the run directory).
    ///   - overrides: `--set` assignments on the run's config.
    public static func load(runDirectory: String, file: String? = nil, overrides: [String] = []) throws -> (
        QuantizedModel, TrainConfig, DataSplits
    ) {
        let (config, data, model) = try loadRun(runDirectory, overrides: overrides, weights: nil)
        return (
            try open(
                file ?? runDirectory + "/" + name, structure: model, config: config, inputShape: data.train.inputShape),
            config, data
        )
    }

    /// Reads an int8 file for a model already built from its run's config.
    /// - Parameters:
    ///   - path: the int8 file.
    ///   - structure: the fp32 model (its weights are not used, only its layers' shapes).
    ///   - config: the run's config.
    ///   - inputShape: one sample's shape.
    public static func open(_ path: String, structure: any Module, config: TrainConfig, inputShape: Shape) throws
        -> QuantizedModel
    {
        let run = (path as NSString).deletingLastPathComponent
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw CheckpointError("no int8 model at \(path): make it with `tandem quantize \(run)`")
        }
        let (tensors, metadata) = try SafeTensors.decode(bytes, name: path)
        guard metadata["format"] == "tandem-int8", metadata["model"] == config.model.name.rawValue else {
            throw CheckpointError(
                "\(path) is not an int8 model of this run's \(config.model.name) (format \(metadata["format"] ?? "none"), "
                    + "model \(metadata["model"] ?? "none")); quantize the run again with `tandem quantize \(run)`")
        }
        return try QuantizedModel(
            plan: InferencePlan(structure, name: config.model.name), tensors: tensors, inputShape: inputShape)
    }

    /// The config, data and model of a run.
    /// - Parameters:
    ///   - runDirectory: the finished run.
    ///   - overrides: `--set` assignments applied to its config.
    ///   - weights: the safetensors file to load (nil: none, the structure is enough).
    public static func loadRun(_ runDirectory: String, overrides: [String] = [], weights: String?) throws -> (
        TrainConfig, DataSplits, any TrainableModel
    ) {
        let config = try ConfigLoader.load(path: runDirectory + "/config.yaml", overrides: overrides)
        let data = try DataSplits.load(config.data, seed: config.seed)
        let model = try ModelFactory.make(config.model, for: data.train, seed: config.seed)
        if let weights { try ModelWeights.load(model, from: weights) }
        model.eval()
        return (config, data, model)
    }
}
