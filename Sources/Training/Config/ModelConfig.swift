import Models

/// `model:` which network to train and its sizes.
public struct ModelConfig: Codable, Equatable, Sendable {
    /// One of `ModelRegistry.names`: mlp, lenet5, resnet, mobilenet, inception, char_mlp, rnn/lstm/gru, gpt, vit,
    /// transformer (encoder-decoder), autoencoder, vae or dcgan.
    public var name = ModelName(rawValue: "lenet5")!
    /// mlp: widths of the hidden layers.
    public var hiddenSizes = [256, 128]
    /// mlp, lenet5 and the transformers: dropout probability (0 for none).
    public var dropout = 0.0
    /// char_mlp: width of each character's embedding and of the tanh layer; the transformers:
    /// the model width (embedding_size).
    public var embeddingSize = 24
    public var hiddenSize = 256
    /// resnet: width of each stage; mobilenet: width of the stem and each separable block;
    /// inception: [stem, first module's branch, second module's branch]. null: the model's default.
    public var channels: [Int]?
    /// resnet: basic blocks per stage.
    public var blocks = 1
    /// rnn, lstm, gru: stacked recurrent layers (embedding_size and hidden_size set their widths);
    /// gpt and vit: transformer blocks; transformer: blocks in the encoder and in the decoder each;
    /// sequential: the list of layers (`layers` reads the count, `declaredLayers` the list).
    public var layerSetting = ModelLayers.count(1)
    /// mlp, lenet5, resnet, mobilenet and inception: the nonlinearity (relu keeps their published form).
    public var activation = ActivationName.relu

    /// The stacked-layer count of `model.layers` (1 when it holds a list).
    public var layers: Int {
        get {
            if case .count(let n) = layerSetting { return n }
            return 1
        }
        set { layerSetting = .count(newValue) }
    }

    /// The layers of a `sequential` model, or nil when `model.layers` is a count.
    public var declaredLayers: [LayerValue]? {
        get {
            if case .list(let items) = layerSetting { return items }
            return nil
        }
        set { layerSetting = newValue.map { .list($0) } ?? .count(1) }
    }
    /// The transformers: attention heads per attention layer (embedding_size must be a multiple).
    public var heads = 4
    /// vit: side of the square patches the image is cut into.
    public var patch = 4
    /// autoencoder: width of the code; vae and dcgan: dimensions of z (hidden_size sets the
    /// hidden layers; dcgan: the base number of feature maps).
    public var latentSize = 16
    /// autoencoder: standard deviation of the Gaussian corruption of training inputs (a
    /// denoising autoencoder when above 0).
    public var noise = 0.0
    /// dcgan: a trained classifier's run directory; each evaluation then reports the
    /// classifier-based Inception Score of 1000 generated images. null: no score.
    public var scoreClassifier: String?
    /// gpt: `learned` position embeddings (GPT-2) or fixed `sinusoidal` ones (Vaswani et al.).
    public var positionEncoding = GPT.Positions.learned
    /// lstm, gru: added at initialisation to the bias of the gate that keeps the state (the
    /// LSTM's forget gate, the GRU's update gate); 0 is PyTorch's init.
    public var forgetBias = 0.0
    /// Regression (`data.task: regression`): what training minimises: mse, mae or huber.
    public var loss = RegressionLossName.mse
    /// huber: where the loss turns from quadratic to linear.
    public var huberDelta = 1.0
    /// Start from trained weights: a run directory (its model.safetensors) or a .safetensors
    /// file with every parameter and buffer of this model; null: a fresh initialisation.
    /// Fine-tuning and one-shot pruning start here. A resumed run uses its checkpoint instead.
    public var initFrom: String?
    /// true: `init_from` must hold every parameter and buffer with its shape. false: load the
    /// tensors whose name and shape match, initialise the rest afresh, and log both lists (a
    /// new head for another number of classes).
    public var initStrict = true

    public init() {}

    enum CodingKeys: String, CodingKey {
        case name, dropout, channels, blocks, layerSetting = "layers", activation, heads, patch
        case positionEncoding = "position_encoding", latentSize = "latent_size", noise, scoreClassifier =
            "score_classifier"
        case hiddenSizes = "hidden_sizes", embeddingSize = "embedding_size", hiddenSize = "hidden_size", forgetBias =
            "forget_bias", initFrom = "init_from", initStrict = "init_strict", loss, huberDelta = "huber_delta"
    }

    func validate(_ v: inout ConfigValidator) {
        v.require(
            !hiddenSizes.isEmpty && hiddenSizes.allSatisfy { $0 > 0 }, "model.hidden_sizes", hiddenSizes,
            "a non-empty list of positive widths")
        v.require(dropout >= 0 && dropout < 1, "model.dropout", dropout, "0 <= dropout < 1")
        v.require(embeddingSize > 0, "model.embedding_size", embeddingSize, "a positive integer")
        v.require(hiddenSize > 0, "model.hidden_size", hiddenSize, "a positive integer")
        v.require(
            channels.map { !$0.isEmpty && $0.allSatisfy { $0 > 0 } } ?? true, "model.channels", channels,
            "null or a list of positive widths")
        v.require(blocks >= 1, "model.blocks", blocks, "a positive number of blocks per stage")
        if case .count(let n) = layerSetting {
            v.require(n >= 1, "model.layers", n, "a positive number of layers")
            v.atMost(n, "model.layers", ConfigLimits.depth, "layers")
        } else if name.rawValue != "sequential" {
            v.fail(
                "model.layers is a list of layers, which only model.name sequential takes; "
                    + "for model \(name) it is a count of stacked layers (e.g. 2)")
        }
        v.require(heads >= 1, "model.heads", heads, "a positive number of attention heads")
        v.require(patch >= 1, "model.patch", patch, "a positive patch side")
        v.require(latentSize >= 1, "model.latent_size", latentSize, "a positive width")
        v.require(noise >= 0, "model.noise", noise, "a standard deviation >= 0")
        name.entry.check(self, &v)
        let w = ConfigLimits.width, d = ConfigLimits.depth
        v.atMost(hiddenSizes, "model.hidden_sizes", w, "units")
        v.atMost(embeddingSize, "model.embedding_size", w, "units")
        v.atMost(hiddenSize, "model.hidden_size", w, "units")
        v.atMost(latentSize, "model.latent_size", w, "units")
        v.atMost(channels, "model.channels", w, "channels")
        v.atMost(blocks, "model.blocks", d, "blocks")
        v.atMost(heads, "model.heads", d, "heads")
        v.atMost(patch, "model.patch", w, "pixels")
        v.require(huberDelta > 0 && huberDelta.isFinite, "model.huber_delta", huberDelta, "a positive number")
    }

    /// The regression loss `loss` and `huber_delta` name.
    var regressionLoss: RegressionLoss {
        switch loss {
        case .mse: return .mse
        case .mae: return .mae
        case .huber: return .huber(delta: Float(huberDelta))
        }
    }
}

/// `model.loss`: a regression's objective.
public enum RegressionLossName: String, ConfigChoice {
    case mse, mae, huber
}

extension GPT.Positions: ConfigChoice {}
