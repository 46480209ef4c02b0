import Datasets
import Models
import NN

/// One model a config can name: the data it takes, what it supports and how it is built.
///
/// `ModelRegistry.entries` holds one per model; every other place asks it.
public struct ModelEntry: Sendable {
    /// What a model supports beyond training.
    public struct Capabilities: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        /// Its output is class logits: classifier metrics, distillation, early stopping on them.
        /// Without it, evaluation measures the loss only.
        public static let classifier = Capabilities(rawValue: 1 << 0)
        /// It has batch-norm running statistics, which each rank updates from its own shards.
        public static let batchNorm = Capabilities(rawValue: 1 << 1)
        /// Two players take turns on each batch (a GAN): no accumulation, no loss scaling.
        public static let alternatingUpdates = Capabilities(rawValue: 1 << 2)
        /// It generates text from a prompt (`tandem sample`).
        public static let sampling = Capabilities(rawValue: 1 << 3)
        /// It can regress float targets (`data.task: regression`) with `training.loss` mse, mae or huber.
        public static let regression = Capabilities(rawValue: 1 << 4)

        /// What a model built in code supports, from the protocols it conforms to and its layers.
        /// - Parameter model: the model.
        public init(of model: any TrainableModel) {
            self = []
            if model is any Classifier { insert(.classifier) }
            if model.namedModules().contains(where: { $0.1 is BatchNorm }) { insert(.batchNorm) }
            if model is any AdversarialModel { insert(.alternatingUpdates) }
            if model is any TextGenerator { insert(.sampling) }
            if model is any Regressor { insert(.regression) }
        }
    }

    /// `model.name`.
    public let name: String
    /// The data it reads, as `DataConfig.dataKey` names them (`shakespeare_char/every`, `fashion_mnist/raw`).
    let reads: [String]
    public let capabilities: Capabilities
    /// The keys that size its parameters, for the out-of-memory advice.
    let sizeKeys: String
    /// Its inference as int8 quantization converts it; nil when it has no int8 path.
    let int8Steps: (@Sendable (any Module) -> [InferencePlan.Step]?)?
    /// Checks of `model:` keys that only this model has.
    let check: @Sendable (ModelConfig, inout ConfigValidator) -> Void
    /// Builds it for the training split (the seed is already set for initialisation).
    let build: @Sendable (ModelConfig, any Dataset, _ seed: Int) throws -> any TrainableModel

    /// - Parameters:
    ///   - name: `model.name`.
    ///   - reads: the data keys it accepts.
    ///   - capabilities: what it supports.
    ///   - sizeKeys: the keys that size its parameters.
    ///   - int8Steps: its int8 inference plan, if it has one.
    ///   - check: its own config checks.
    ///   - build: the model for a training split.
    init(
        _ name: String, reads: [String], capabilities: Capabilities = [], sizeKeys: String,
        int8Steps: (@Sendable (any Module) -> [InferencePlan.Step]?)? = nil,
        check: @escaping @Sendable (ModelConfig, inout ConfigValidator) -> Void = { _, _ in },
        build: @escaping @Sendable (ModelConfig, any Dataset, _ seed: Int) throws -> any TrainableModel
    ) {
        (self.name, self.reads, self.capabilities, self.sizeKeys) = (name, reads, capabilities, sizeKeys)
        (self.int8Steps, self.check, self.build) = (int8Steps, check, build)
    }

    public var isClassifier: Bool { capabilities.contains(.classifier) }
}
