import Datasets
import Models
import TensorCore

/// Builds the model a config names, sized for its data.
public enum ModelFactory {
    /// - Parameters:
    ///   - config: `model:`.
    ///   - data: the training split, whose input shape and class count size the model.
    ///   - seed: initialisation seed (every rank builds the same weights; rank 0's are broadcast anyway).
    public static func make(_ config: ModelConfig, for data: any Dataset, seed: Int) throws -> any TrainableModel {
        try AllocationFailure.labeled("the parameters of model \(config.name)", fix: "lower \(sizeKeys(config.name))") {
            try build(config, for: data, seed: seed)
        }
    }

    /// The keys that size each model's parameters, for the out-of-memory advice.
    static func sizeKeys(_ name: String) -> String {
        switch name {
        case "mlp": return "model.hidden_sizes"
        case "lenet5": return "data.synthetic.input_shape"
        case "resnet", "mobilenet", "inception": return "model.channels"
        case "rnn", "lstm", "gru", "char_mlp": return "model.embedding_size or model.hidden_size"
        case "gpt", "vit", "transformer": return "model.embedding_size or model.layers"
        default: return "model.hidden_size or model.latent_size"
        }
    }

    static func build(_ config: ModelConfig, for data: any Dataset, seed: Int) throws -> any TrainableModel {
        Init.seed(UInt64(seed))
        switch config.name {
        case "mlp":
            guard data.inputType == .float32 else {
                throw ConfigError("model.name mlp needs image or feature data, not token ids")
            }
            return MLP(
                inputs: data.inputShape.count, hiddenSizes: config.hiddenSizes, classes: data.classCount,
                dropout: Float(config.dropout))
        case "lenet5":
            guard data.inputShape == [1, 28, 28] else {
                throw ConfigError(
                    "model.name lenet5 needs 1x28x28 inputs but the data gives \(data.inputShape.dims); "
                        + "use data.synthetic.input_shape [1, 28, 28] or model.name mlp")
            }
            return LeNet5(classes: data.classCount, dropout: Float(config.dropout))
        case "resnet", "mobilenet", "inception":
            guard data.inputType == .float32, data.inputShape.rank == 3 else {
                throw ConfigError(
                    "model.name \(config.name) needs images (C, H, W) but the data gives \(data.inputShape.dims)")
            }
            let c = data.inputShape[0], k = data.classCount
            switch config.name {
            case "resnet":
                return ResNet(
                    inputChannels: c, channels: config.channels ?? [16, 32, 64], blocksPerStage: config.blocks,
                    classes: k)
            case "mobilenet":
                return MobileNet(inputChannels: c, channels: config.channels ?? [32, 64, 128, 128, 256], classes: k)
            default:
                return InceptionNet(inputChannels: c, channels: config.channels ?? [32, 16, 32], classes: k)
            }
        case "rnn", "lstm", "gru":
            let kind = Recurrent.Kind(rawValue: config.name)!
            if let text = data as? NextTokenSequenceDataset {
                return RecurrentLanguageModel(
                    kind, vocabulary: text.classCount, embeddingSize: config.embeddingSize,
                    hiddenSize: config.hiddenSize, layers: config.layers, forgetBias: Float(config.forgetBias))
            }
            guard data.inputType == .int32, data.inputShape.rank == 1,
                let vocabulary = (data as? TensorDataset)?.tokenCount
            else {
                throw ConfigError(
                    "model.name \(config.name) reads token sequences; use data.name memory, or shakespeare_char with "
                        + "data.targets every (the data gives \(data.inputShape.dims))")
            }
            return SequenceClassifier(
                kind, vocabulary: vocabulary, embeddingSize: config.embeddingSize,
                hiddenSize: config.hiddenSize, layers: config.layers, classes: data.classCount,
                forgetBias: Float(config.forgetBias))
        case "vit":
            guard data.inputType == .float32, data.inputShape.rank == 3 else {
                throw ConfigError("model.name vit needs images (C, H, W) but the data gives \(data.inputShape.dims)")
            }
            let (c, h, w) = (data.inputShape[0], data.inputShape[1], data.inputShape[2])
            guard h % config.patch == 0 && w % config.patch == 0 else {
                throw ConfigError(
                    "model.patch \(config.patch) does not divide the \(h)x\(w) images; use a divisor such as 4 or 7 for 28x28"
                )
            }
            return VisionTransformer(
                imageSize: (c, h, w), patch: config.patch, width: config.embeddingSize, layers: config.layers,
                heads: config.heads, classes: data.classCount, dropout: Float(config.dropout))
        case "dcgan":
            return DCGAN(
                imageShape: data.inputShape.dims, latent: config.latentSize, width: config.hiddenSize,
                seed: UInt64(seed))
        case "autoencoder", "vae":
            let shape = data.inputShape.dims
            return config.name == "vae"
                ? VariationalAutoencoder(
                    imageShape: shape, hidden: config.hiddenSize, latent: config.latentSize, seed: UInt64(seed))
                : Autoencoder(
                    imageShape: shape, hidden: config.hiddenSize, code: config.latentSize, noise: Float(config.noise),
                    seed: UInt64(seed))
        case "transformer":
            guard let pairs = data as? SequenceToSequenceDataset else {
                throw ConfigError("model.name transformer translates sequences; use data.name seq2seq")
            }
            return Seq2SeqTransformer(
                vocabulary: pairs.classCount, sourceLength: pairs.sourceLength, targetLength: pairs.targetLength,
                width: config.embeddingSize, layers: config.layers, heads: config.heads, dropout: Float(config.dropout))
        case "gpt":
            guard let text = data as? NextTokenSequenceDataset else {
                throw ConfigError(
                    "model.name gpt predicts the next character at every position; use data.name shakespeare_char "
                        + "with data.targets: every")
            }
            return GPT(
                vocabulary: text.classCount, context: text.context, width: config.embeddingSize, layers: config.layers,
                heads: config.heads, dropout: Float(config.dropout),
                positions: GPT.Positions(rawValue: config.positionEncoding)!)
        default:  // char_mlp
            guard let chars = data as? NextCharacterDataset else {
                throw ConfigError("model.name char_mlp needs data.name shakespeare_char with data.targets: last")
            }
            return CharMLP(
                vocabulary: chars.classCount, context: chars.context, embeddingSize: config.embeddingSize,
                hiddenSize: config.hiddenSize)
        }
    }
}

import NN
