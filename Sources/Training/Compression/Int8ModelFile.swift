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

    /// How `quantize` stores the model.
    public enum Form: String, CaseIterable, Sendable {
        /// The fused MLP and LeNet-5 program where the model has one, else `layers`.
        case auto
        /// The fused program (bytes flow between layers; only `mlp` and `lenet5` with ReLU).
        case fused
        /// int8 inside each linear, convolution and recurrent layer; everything else fp32.
        case layers
    }

    /// What `quantize` did.
    public struct Summary {
        public let path: String
        public let bytes: Int, floatBytes: Int
        /// The form written: `fused` or `layers`.
        public let form: Form
        /// An int8 layer: its input range and the scale and zero point it gives.
        public typealias Layer = (name: String, low: Float, high: Float, scale: Float, zeroPoint: Int32)
        public let layers: [Layer]
        /// Linear, convolution and recurrent layers the forward pass never ran, left fp32.
        public let unused: [String]
    }

    /// Quantizes the trained model of a run directory.
    /// - Parameters:
    ///   - runDirectory: a finished run (config.yaml, model.safetensors).
    ///   - method: how activation ranges are calibrated.
    ///   - percentile: for `.percentile`.
    ///   - samples: training samples the calibration runs on (a seeded random sample).
    ///   - output: the file to write (nil: `name` in the run directory).
    ///   - checkpoint: a checkpoint folder of the run whose weights to quantize (nil: the final model.safetensors).
    ///   - form: fused or per-layer (auto: fused where the model has it).
    public static func quantize(
        runDirectory: String, method: ActivationCalibration.Method, percentile: Double, samples: Int,
        output: String? = nil, checkpoint: String? = nil, form: Form = .auto
    ) throws -> Summary {
        let weights = (checkpoint ?? runDirectory) + "/model.safetensors"
        let (config, data, model) = try loadRun(runDirectory, weights: weights)
        let shuffled = DistributedSampler(
            count: data.train.count, rank: 0, worldSize: 1, shuffle: true, seed: UInt64(config.seed),
            dropLast: false
        ).indices(epoch: 0)
        let order = shuffled.prefix(min(samples, shuffled.count))
        let batches = stride(from: 0, to: order.count, by: 256).map {
            data.train.batch(order[$0..<min($0 + 256, order.count)])
        }
        let fused = form == .fused || (form == .auto && config.model.name.entry.int8Steps?(model) != nil)
        var tensors: [(String, NDArray)], layers: [Summary.Layer] = [], unused: [String] = []
        var metadata = [
            "model": config.model.name.rawValue, "calibration": method.rawValue,
            "percentile": method == .percentile ? "\(percentile)" : "", "calibration_samples": "\(order.count)",
            "config_hash": ConfigLoader.hash(config),
        ]
        if fused {
            let plan = try InferencePlan(model, name: config.model.name)
            let ranges = ActivationCalibration.ranges(
                plan: plan, batches: batches.map(\.inputs), method: method, percentile: percentile)
            tensors = QuantizedModel.quantize(plan, ranges: ranges)
            let byName = [String: NDArray](uniqueKeysWithValues: tensors)
            layers = ranges.keys.sorted().map { layer in
                (
                    layer, ranges[layer]!.low, ranges[layer]!.high, byName[layer + ".input_scale"]!.ptr[0],
                    byName[layer + ".input_zero_point"]!.int32Pointer[0]
                )
            }
            metadata["format"] = "tandem-int8"
        } else {
            let quantized = try Int8Calibration.quantize(
                model, batches: batches.map { ($0.inputs, $0.targets) }, method: method, percentile: percentile,
                modelName: config.model.name.rawValue)
            tensors = Int8LayerFile.tensors(of: model, layers: quantized)
            layers = quantized.map { l in
                (l.site.name, l.low, l.high, l.site.weights!.inputScale, l.site.weights!.inputZeroPoint)
            }
            let names = Set(layers.map(\.name))
            unused = Int8Site.all(in: model).map(\.name).filter { !names.contains($0) }
            metadata["format"] = Int8LayerFile.format
            metadata["layers"] = layers.map(\.name).joined(separator: ",")
        }
        let path = output ?? runDirectory + "/" + name
        let bytes = try SafeTensors.encode(tensors, metadata: metadata)
        do {
            try bytes.write(to: URL(fileURLWithPath: path), options: Data.WritingOptions.atomic)
        } catch {
            throw CheckpointError(
                "cannot write \(path): \(FileFailure.describe(error)); choose a writable --output")
        }
        let floatBytes = (try? FileManager.default.attributesOfItem(atPath: weights)[.size] as? Int) ?? 0
        return Summary(
            path: path, bytes: bytes.count, floatBytes: floatBytes, form: fused ? .fused : .layers, layers: layers,
            unused: unused)
    }

    /// The int8 model of a run directory, ready to evaluate.
    /// - Parameters:
    ///   - runDirectory: the run (its config.yaml rebuilds the model's structure).
    ///   - file: the int8 file (nil: `name` in the run directory).
    ///   - overrides: `--set` assignments on the run's config.
    public static func load(runDirectory: String, file: String? = nil, overrides: [String] = []) throws -> (
        any TrainableModel, TrainConfig, DataSplits
    ) {
        let config = try ConfigLoader.load(path: runDirectory + "/config.yaml", overrides: overrides)
        let data = try DataSplits.load(config.data, seed: config.seed)
        return (try open(file ?? runDirectory + "/" + name, config: config, train: data.train), config, data)
    }

    /// Reads an int8 file of a run: the fused program (`tandem-int8`) or per-layer int8
    /// (`tandem-int8-layers`) in a model built from the run's config.
    /// - Parameters:
    ///   - path: the int8 file.
    ///   - config: the run's config.
    ///   - train: the run's training split (it sizes the model).
    public static func open(_ path: String, config: TrainConfig, train: any Dataset) throws -> any TrainableModel {
        let run = (path as NSString).deletingLastPathComponent
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw CheckpointError("no int8 model at \(path): make it with `tandem quantize \(run.isEmpty ? "." : run)`")
        }
        let (tensors, metadata) = try SafeTensors.decode(bytes, name: path)
        let format = metadata["format"], forms = ["tandem-int8", Int8LayerFile.format]
        guard let format, forms.contains(format), metadata["model"] == config.model.name.rawValue else {
            throw CheckpointError(
                "\(path) is not an int8 model of this run's \(config.model.name) (format \(format ?? "none"), "
                    + "model \(metadata["model"] ?? "none")); quantize the run again with `tandem quantize \(run)`")
        }
        let model = try ModelFactory.make(config.model, for: train, seed: config.seed)
        model.eval()
        if format == "tandem-int8" {
            return try QuantizedModel(
                plan: InferencePlan(model, name: config.model.name), tensors: tensors, inputShape: train.inputShape)
        }
        let sites = (metadata["layers"] ?? "").split(separator: ",").map(String.init)
        try Int8LayerFile.install(tensors, siteNames: sites, into: model, path: path)
        return model
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
