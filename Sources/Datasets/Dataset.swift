import TensorCore

/// One batch: inputs with the batch axis first, and targets: int32 class indices, (N) or one
/// per position (N, T) for sequence models, or float32 values (N, K) for regression.
public struct Batch: @unchecked Sendable {
    public let inputs: NDArray
    public let targets: NDArray
    public init(inputs: NDArray, targets: NDArray) { (self.inputs, self.targets) = (inputs, targets) }
    /// Samples in the batch (N, whatever the targets per sample).
    public var count: Int { targets.shape[0] }
    /// The targets as one row per prediction: class indices flattened to (N·T), the layout of a
    /// model's logits; regression values stay (N, K), the layout of its outputs.
    public var flatTargets: NDArray {
        targets.rank == 1 || targets.dtype == .float32 ? targets : targets.reshaped([targets.count])
    }
}

/// Samples addressed by index, gathered into batches.
///
/// Implementations must be safe to call from the prefetch thread while the main thread
/// trains: `batch(_:)` only reads shared state and writes fresh arrays.
public protocol Dataset: AnyObject, Sendable {
    /// Number of samples.
    var count: Int { get }
    /// Shape of one input sample, without the batch axis.
    var inputShape: Shape { get }
    /// Element type of the inputs (float32 pixels, or int32 token ids).
    var inputType: DType { get }
    /// Number of target classes; for regression, the values per sample (the model's outputs).
    var classCount: Int { get }
    /// What the targets are: class indices (int32) or values to regress (float32).
    var task: DatasetTask { get }
    /// Float targets per sample (K) for regression; 1 for classification.
    var targetWidth: Int { get }
    /// Targets per sample: 1 for classification, T for a sequence with a target per position.
    var targetsPerSample: Int { get }
    /// Whether a sample counts as solved only when every target is right (a translated or
    /// reversed string), so evaluation reports exact match; language modelling does not.
    var scoresWholeSequences: Bool { get }
    /// Gathers the samples at `indices` into one batch.
    func batch(_ indices: ArraySlice<Int>) -> Batch
    /// Gathers the samples at `indices` into one batch, or throws when one cannot be read (a
    /// damaged file found only when decoded); `batch(_:)` reports such a failure to
    /// `DatasetFailure.handler` instead.
    func loadBatch(_ indices: ArraySlice<Int>) throws -> Batch
}

extension Dataset {
    public var targetsPerSample: Int { 1 }
    public var scoresWholeSequences: Bool { false }
    /// Samples held in memory cannot fail to load.
    public func loadBatch(_ indices: ArraySlice<Int>) throws -> Batch { batch(indices) }
    public var task: DatasetTask { .classification }
    public var targetWidth: Int { 1 }
}

/// Samples held in memory: inputs (N, ...) and int32 labels (N).
public final class TensorDataset: Dataset, @unchecked Sendable {
    public let inputs: NDArray
    public let labels: NDArray
    public let classCount: Int
    /// For token inputs, the number of distinct token ids (the embedding's size); nil otherwise.
    public var tokenCount: Int?

    /// - Parameters:
    ///   - inputs: (N, ...) float32 or int32.
    ///   - labels: (N) int32 in 0..<classCount.
    ///   - classCount: the number of classes.
    public init(inputs: NDArray, labels: NDArray, classCount: Int) {
        precondition(
            inputs.shape[0] == labels.shape[0] && labels.rank == 1 && labels.dtype == .int32,
            "inputs \(inputs.shape) and labels \(labels.shape) must share the first axis; labels must be int32 (N)")
        (self.inputs, self.labels, self.classCount) = (inputs, labels, classCount)
    }

    public var count: Int { labels.shape[0] }
    public var inputShape: Shape { Shape(Array(inputs.shape.dims.dropFirst())) }
    public var inputType: DType { inputs.dtype }

    public func batch(_ indices: ArraySlice<Int>) -> Batch {
        let rowBytes = inputShape.count * inputs.dtype.byteSize
        let x = NDArray(shape: Shape([indices.count] + inputShape.dims), dtype: inputs.dtype, zeroed: false)
        let y = NDArray(shape: [indices.count], dtype: .int32, zeroed: false)
        let src = inputs.storage.raw, dst = x.storage.raw
        let labelsIn = labels.int32Pointer, labelsOut = y.int32Pointer
        for (row, i) in indices.enumerated() {
            precondition(i >= 0 && i < count, "sample \(i) is outside a dataset of \(count)")
            (dst + row * rowBytes).copyMemory(from: src + i * rowBytes, byteCount: rowBytes)
            labelsOut[row] = labelsIn[i]
        }
        return Batch(inputs: x, targets: y)
    }

    /// The samples `range` as a new dataset (a copy, so the parts are independent).
    public func slice(_ range: Range<Int>) -> TensorDataset {
        let b = batch(ArraySlice(Array(range)))
        let part = TensorDataset(inputs: b.inputs, labels: b.targets, classCount: classCount)
        part.tokenCount = tokenCount
        return part
    }

    /// The first (1 - fraction) of the samples for training and the rest for validation.
    public func split(validationFraction: Double) -> (train: TensorDataset, validation: TensorDataset) {
        precondition(validationFraction > 0 && validationFraction < 1, "validation fraction must lie in (0, 1)")
        let cut = count - Int((Double(count) * validationFraction).rounded())
        precondition(
            cut > 0 && cut < count,
            "a validation fraction of \(validationFraction) leaves an empty part of \(count) samples")
        return (slice(0..<cut), slice(cut..<count))
    }
}
