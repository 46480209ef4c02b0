import Datasets
import Foundation
import Models
import NN

/// A run's model outputs on samples of its own data, written as `.npy` files so that another
/// framework's definition of the model (launch/interop/compare.py) can be checked against them.
///
/// The files: `inputs.npy` (the samples; for DCGAN the latent vectors), one `.npy` per output
/// (`logits` for classifiers, `predictions` for regressors; the autoencoders' `logits`, the
/// VAE's `mean` and `log_variance` too; DCGAN's `images` and `discriminator_logits`), and
/// `outputs.json`, naming the model, the outputs and the sizes the weights do not tell.
public enum ReferenceOutputs {
    /// The model's outputs on `inputs`, in evaluation mode, by name.
    /// - Parameters:
    ///   - model: a built model with its weights.
    ///   - inputs: a batch of samples (for DCGAN, latent vectors (N, Z)).
    public static func outputs(of model: any TrainableModel, inputs: NDArray) -> [(String, NDArray)] {
        model.eval()
        return withNoGrad { () -> [(String, NDArray)] in
            switch model {
            case let gan as DCGAN:
                let images = gan.generator(Tensor(inputs))
                return [("images", images.values), ("discriminator_logits", gan.discriminator(images).values)]
            case let vae as VariationalAutoencoder:
                let (mean, logVariance) = vae.encode(Tensor(inputs))
                return [
                    ("mean", mean.values), ("log_variance", logVariance.values), ("logits", vae.decode(mean).values),
                ]
            case let autoencoder as Autoencoder:
                return [("logits", autoencoder.decode(autoencoder.encode(Tensor(inputs))).values)]
            case let regressor as any Regressor:
                return [("predictions", regressor.predictions(inputs).values)]
            case let classifier as any Classifier:
                return [("logits", classifier.logits(inputs).values)]
            default:
                return []
            }
        }
    }

    /// The Swift type of `model` and the sizes its weights do not give, by name (see `outputs.json`).
    public static func sizes(of model: any TrainableModel, sampleShape: Shape) -> [String: Any] {
        var sizes: [String: Any] = ["input_shape": sampleShape.dims, "type": "\(type(of: model))"]
        switch model {
        case let m as RecurrentLanguageModel: sizes["recurrent"] = m.recurrent.kind.rawValue
        case let m as SequenceClassifier: sizes["recurrent"] = m.recurrent.kind.rawValue
        case let m as Seq2SeqTransformer:
            (sizes["source_length"], sizes["target_length"]) = (m.sourceLength, m.targetLength)
        case let m as GPT: sizes["context"] = m.context
        case let m as DCGAN: (sizes["image_shape"], sizes["latent"]) = (m.imageShape, m.latent)
        case let m as Autoencoder: sizes["image_shape"] = m.imageShape
        case let m as VariationalAutoencoder: sizes["image_shape"] = m.imageShape
        default: break
        }
        return sizes
    }

    /// Builds a run's model, loads its weights, and writes its outputs on `count` samples.
    /// - Parameters:
    ///   - runDirectory: a run directory (its config.yaml).
    ///   - weights: the safetensors file to load.
    ///   - count: samples, the first of the validation split (of the training split when it has fewer).
    ///   - folder: where to write the files (created if missing).
    ///   - overrides: `--set` assignments applied to the run's config (a moved dataset).
    /// - Returns: the files written.
    public static func write(
        runDirectory: String, weights: String, count: Int, to folder: String, overrides: [String] = []
    ) throws -> [String] {
        let config = try ConfigLoader.load(path: runDirectory + "/config.yaml", overrides: overrides)
        let data = try DataSplits.load(config.data, seed: config.seed)
        let model = try ModelFactory.make(config.model, for: data.train, seed: config.seed)
        try ModelWeights.load(model, from: weights)
        let inputs: NDArray, sampleShape: Shape
        if let gan = model as? DCGAN {
            var rng = PhiloxRNG(seed: 0)
            inputs = NDArray(shape: [count, gan.latent], zeroed: false)
            rng.fillNormal(inputs.ptr, inputs.count)
            sampleShape = [gan.latent]
        } else {
            let split = data.validation.count >= count ? data.validation : data.train
            inputs = try split.loadBatch(Array(0..<min(count, split.count))[...]).inputs
            sampleShape = Shape(Array(inputs.shape.dims.dropFirst()))
        }
        let outputs = Self.outputs(of: model, inputs: inputs)
        guard !outputs.isEmpty else {
            throw TrainingError("model \(config.model.name) has no outputs to compare")
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var written: [String] = []
        for (name, array) in [("inputs", inputs)] + outputs {
            let path = folder + "/" + name + ".npy"
            try NpyFile.encode(array).write(to: URL(fileURLWithPath: path))
            written.append(path)
        }
        var description = sizes(of: model, sampleShape: sampleShape)
        (description["model"], description["outputs"]) = (config.model.name.rawValue, outputs.map(\.0))
        let json = try JSONSerialization.data(withJSONObject: description, options: [.prettyPrinted, .sortedKeys])
        try json.write(to: URL(fileURLWithPath: folder + "/outputs.json"))
        return written + [folder + "/outputs.json"]
    }
}
