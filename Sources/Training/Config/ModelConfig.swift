/// `model:` which network to train and its sizes.
public struct ModelConfig: Codable, Equatable, Sendable {
    /// mlp, lenet5 or char_mlp.
    public var name = "lenet5"
    /// mlp: widths of the hidden layers.
    public var hiddenSizes = [256, 128]
    /// mlp and lenet5: dropout probability (0 for none).
    public var dropout = 0.0
    /// char_mlp: width of each character's embedding and of the tanh layer.
    public var embeddingSize = 24
    public var hiddenSize = 256

    public static let names = ["mlp", "lenet5", "char_mlp"]

    public init() {}

    enum CodingKeys: String, CodingKey {
        case name, dropout
        case hiddenSizes = "hidden_sizes", embeddingSize = "embedding_size", hiddenSize = "hidden_size"
    }

    func validate(_ v: inout ConfigValidator) {
        v.choose(name, "model.name", from: Self.names)
        v.require(!hiddenSizes.isEmpty && hiddenSizes.allSatisfy { $0 > 0 }, "model.hidden_sizes", hiddenSizes, "a non-empty list of positive widths")
        v.require(dropout >= 0 && dropout < 1, "model.dropout", dropout, "0 <= dropout < 1")
        v.require(embeddingSize > 0, "model.embedding_size", embeddingSize, "a positive integer")
        v.require(hiddenSize > 0, "model.hidden_size", hiddenSize, "a positive integer")
    }
}
