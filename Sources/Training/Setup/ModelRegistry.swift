import Datasets
import Models
import NN
import TensorCore

/// Every model a config can name. Adding a model is its file in `Sources/Models/` and one entry here.
public enum ModelRegistry {
    /// The images the classifiers read: Fashion-MNIST and image folders, normalised or in [0, 1],
    /// synthetic clusters and NumPy arrays (whose shape the model checks).
    static let images = [
        "fashion_mnist", "fashion_mnist/raw", "image_folder", "image_folder/raw", "synthetic", "numpy",
    ]
    /// The generative models read pixels in [0, 1], their Bernoulli likelihood's range.
    static let pixels = ["fashion_mnist/raw", "image_folder/raw"]
    /// The language models read text with a target at every position, or token files.
    static let everyNextToken = ["shakespeare_char/every", "text/every", "tokens"]

    public static let entries: [ModelEntry] = [
        ModelEntry(
            "mlp", reads: images + ["csv"], capabilities: [.classifier, .regression], sizeKeys: "model.hidden_sizes",
            int8Steps: { ($0 as? MLP).flatMap { $0.activation == .relu ? InferencePlan.steps(of: $0) : nil } }
        ) { config, data, _ in
            guard data.inputType == .float32 else {
                throw ConfigError("model.name mlp needs image or feature data, not token ids")
            }
            if data.task == .regression {
                return MLPRegressor(
                    inputs: data.inputShape.count, hiddenSizes: config.hiddenSizes, outputs: data.targetWidth,
                    dropout: Float(config.dropout), loss: config.regressionLoss, activation: config.activation.function)
            }
            return MLP(
                inputs: data.inputShape.count, hiddenSizes: config.hiddenSizes, classes: data.classCount,
                dropout: Float(config.dropout), activation: config.activation.function)
        },
        ModelEntry(
            "lenet5", reads: images, capabilities: .classifier, sizeKeys: "data.synthetic.input_shape",
            int8Steps: { ($0 as? LeNet5).flatMap { $0.activation == .relu ? InferencePlan.steps(of: $0) : nil } }
        ) { config, data, _ in
            guard data.inputShape == [1, 28, 28] else {
                throw ConfigError(
                    "model.name lenet5 needs 1x28x28 inputs but the data gives \(data.inputShape.dims); "
                        + "use data.synthetic.input_shape [1, 28, 28] or model.name mlp")
            }
            return LeNet5(
                classes: data.classCount, dropout: Float(config.dropout), activation: config.activation.function)
        },
        ModelEntry("resnet", reads: images, capabilities: [.classifier, .batchNorm], sizeKeys: "model.channels") {
            config, data, _ in
            let c = try imageChannels(config, data)
            return ResNet(
                inputChannels: c, channels: config.channels ?? [16, 32, 64], blocksPerStage: config.blocks,
                classes: data.classCount, activation: config.activation.function)
        },
        ModelEntry(
            "mobilenet", reads: images, capabilities: [.classifier, .batchNorm], sizeKeys: "model.channels",
            check: { config, v in
                v.require(
                    config.channels.map { $0.count >= 2 } ?? true, "model.channels", config.channels,
                    "at least two widths for mobilenet")
            }
        ) { config, data, _ in
            MobileNet(
                inputChannels: try imageChannels(config, data), channels: config.channels ?? [32, 64, 128, 128, 256],
                classes: data.classCount, activation: config.activation.function)
        },
        ModelEntry(
            "inception", reads: images, capabilities: [.classifier, .batchNorm], sizeKeys: "model.channels",
            check: { config, v in
                v.require(
                    config.channels.map { $0.count == 3 } ?? true, "model.channels", config.channels,
                    "three widths for inception")
            }
        ) { config, data, _ in
            InceptionNet(
                inputChannels: try imageChannels(config, data), channels: config.channels ?? [32, 16, 32],
                classes: data.classCount, activation: config.activation.function)
        },
        ModelEntry(
            "char_mlp", reads: ["shakespeare_char/last", "text/last"], capabilities: .classifier,
            sizeKeys: "model.embedding_size or model.hidden_size"
        ) { config, data, _ in
            guard let chars = data as? NextCharacterDataset else {
                throw ConfigError("model.name char_mlp needs data.name shakespeare_char with data.targets: last")
            }
            return CharMLP(
                vocabulary: chars.classCount, context: chars.context, embeddingSize: config.embeddingSize,
                hiddenSize: config.hiddenSize)
        },
        recurrent(.rnn), recurrent(.lstm), recurrent(.gru),
        ModelEntry(
            "gpt", reads: everyNextToken, capabilities: [.classifier, .sampling],
            sizeKeys: "model.embedding_size or model.layers", check: headsDivideWidth
        ) { config, data, _ in
            guard isNextTokenData(data) else {
                throw ConfigError(
                    "model.name gpt predicts the next token at every position; use data.name text or "
                        + "shakespeare_char with data.targets: every, or data.name tokens")
            }
            return GPT(
                vocabulary: data.classCount, context: data.inputShape[0], width: config.embeddingSize,
                layers: config.layers,
                heads: config.heads, dropout: Float(config.dropout), positions: config.positionEncoding)
        },
        ModelEntry(
            "vit", reads: images, capabilities: .classifier, sizeKeys: "model.embedding_size or model.layers",
            check: headsDivideWidth
        ) { config, data, _ in
            guard data.inputType == .float32, data.inputShape.rank == 3 else {
                throw ConfigError("model.name vit needs images (C, H, W) but the data gives \(data.inputShape.dims)")
            }
            let (c, h, w) = (data.inputShape[0], data.inputShape[1], data.inputShape[2])
            guard h % config.patch == 0 && w % config.patch == 0 else {
                throw ConfigError(
                    "model.patch \(config.patch) does not divide the \(h)x\(w) images; "
                        + "use a divisor such as 4 or 7 for 28x28")
            }
            return VisionTransformer(
                imageSize: (c, h, w), patch: config.patch, width: config.embeddingSize, layers: config.layers,
                heads: config.heads, classes: data.classCount, dropout: Float(config.dropout))
        },
        ModelEntry(
            "transformer", reads: ["seq2seq"], capabilities: .classifier,
            sizeKeys: "model.embedding_size or model.layers", check: headsDivideWidth
        ) { config, data, _ in
            guard let pairs = data as? SequenceToSequenceDataset else {
                throw ConfigError("model.name transformer translates sequences; use data.name seq2seq")
            }
            return Seq2SeqTransformer(
                vocabulary: pairs.classCount, sourceLength: pairs.sourceLength, targetLength: pairs.targetLength,
                width: config.embeddingSize, layers: config.layers, heads: config.heads, dropout: Float(config.dropout))
        },
        ModelEntry(
            "sequential", reads: images + ["csv", "memory", "shakespeare_char/last", "text/last"] + everyNextToken,
            capabilities: [.classifier, .regression], sizeKeys: "the widths in model.layers",
            check: { config, v in
                if config.declaredLayers == nil {
                    v.fail(
                        "model.name sequential needs model.layers: a list of layers, "
                            + "e.g. [flatten, {linear: {out: 10}}]")
                }
            }
        ) { config, data, _ in try SequentialBuilder.model(config, data) },
        ModelEntry("autoencoder", reads: pixels, sizeKeys: "model.hidden_size or model.latent_size") {
            config, data, seed in
            Autoencoder(
                imageShape: data.inputShape.dims, hidden: config.hiddenSize, code: config.latentSize,
                noise: Float(config.noise), seed: UInt64(seed))
        },
        ModelEntry("vae", reads: pixels, sizeKeys: "model.hidden_size or model.latent_size") { config, data, seed in
            VariationalAutoencoder(
                imageShape: data.inputShape.dims, hidden: config.hiddenSize, latent: config.latentSize,
                seed: UInt64(seed))
        },
        ModelEntry(
            "dcgan", reads: pixels, capabilities: [.batchNorm, .alternatingUpdates],
            sizeKeys: "model.hidden_size or model.latent_size"
        ) { config, data, seed in
            DCGAN(
                imageShape: data.inputShape.dims, latent: config.latentSize, width: config.hiddenSize,
                seed: UInt64(seed))
        },
    ]

    /// Every `model.name`, in the order the docs list them.
    public static var names: [String] { entries.map(\.name) }

    /// The names of the models with `capability`.
    public static func names(with capability: ModelEntry.Capabilities) -> [String] {
        entries.filter { $0.capabilities.contains(capability) }.map(\.name)
    }

    /// The recurrent models: a language model on text, a sequence classifier on token sequences.
    static func recurrent(_ kind: Recurrent.Kind) -> ModelEntry {
        ModelEntry(
            kind.rawValue, reads: ["memory"] + everyNextToken, capabilities: .classifier,
            sizeKeys: "model.embedding_size or model.hidden_size"
        ) { config, data, _ in
            if isNextTokenData(data) {
                return RecurrentLanguageModel(
                    kind, vocabulary: data.classCount, embeddingSize: config.embeddingSize,
                    hiddenSize: config.hiddenSize, layers: config.layers, forgetBias: Float(config.forgetBias))
            }
            guard data.inputType == .int32, data.inputShape.rank == 1,
                let vocabulary = (data as? TensorDataset)?.tokenCount
            else {
                throw ConfigError(
                    "model.name \(kind.rawValue) reads token sequences; use data.name memory, or shakespeare_char "
                        + "with data.targets every (the data gives \(data.inputShape.dims))")
            }
            return SequenceClassifier(
                kind, vocabulary: vocabulary, embeddingSize: config.embeddingSize, hiddenSize: config.hiddenSize,
                layers: config.layers, classes: data.classCount, forgetBias: Float(config.forgetBias))
        }
    }

    /// Token windows (T) with the next token as the target at every position (text, token files).
    static func isNextTokenData(_ data: any Dataset) -> Bool {
        data is NextTokenSequenceDataset || data is TokenFileDataset
    }

    /// The input channels of images (C, H, W), or the error naming what the data gives.
    static func imageChannels(_ config: ModelConfig, _ data: any Dataset) throws -> Int {
        guard data.inputType == .float32, data.inputShape.rank == 3 else {
            throw ConfigError(
                "model.name \(config.name) needs images (C, H, W) but the data gives \(data.inputShape.dims)")
        }
        return data.inputShape[0]
    }

    /// Attention splits the width over the heads.
    @Sendable static func headsDivideWidth(_ config: ModelConfig, _ v: inout ConfigValidator) {
        v.require(
            config.embeddingSize % config.heads == 0, "model.embedding_size", config.embeddingSize,
            "a multiple of model.heads (\(config.heads))")
    }
}
