import TensorCore

/// Samples from NumPy arrays: inputs (N, ...) and targets, (N) class labels for classification,
/// (N) or (N, K) values for regression.
///
/// The inputs stay in their file (mapped, or in memory for a compressed `.npz` entry); a batch
/// converts only its own rows, so an array larger than memory trains with each rank reading
/// its batches only. Values are converted as they are (uint8 pixels stay 0-255: scale them
/// before saving, or use a normalising model). The targets, one or K per sample, are read
/// into memory and checked when the dataset opens, as are the inputs' values (see `init`).
public final class NumpyDataset: Dataset, @unchecked Sendable {
    public let inputs: NumpyArray
    public let task: DatasetTask
    public let classCount: Int
    public let inputType: DType
    /// The rows of the arrays this dataset covers (all of them, or a split).
    public let rows: Range<Int>
    /// Class labels (classification) or K values per sample (regression), for all rows.
    private let labels: [Int32], values: [Float]
    public let targetWidth: Int

    /// Opens inputs and targets and checks that they agree.
    /// - Parameters:
    ///   - inputs: (N, ...) of any supported dtype.
    ///   - targets: (N) integer labels for classification; (N) or (N, K) numbers for regression.
    ///   - task: classification or regression.
    ///   - classCount: the number of classes; nil takes the largest label + 1.
    ///   - inputType: float32 (any dtype, converted), or int32 (integer inputs such as token ids).
    ///   - checkValues: read every input once at open, looking for NaN or infinity (or, for int32,
    ///     values outside Int32). The pass releases the pages behind it, so memory stays flat;
    ///     switch it off to start faster on a file known to be clean.
    public init(
        inputs: NumpyArray, targets: NumpyArray, task: DatasetTask = .classification, classCount: Int? = nil,
        inputType: DType = .float32, checkValues: Bool = true
    ) throws {
        guard inputs.shape.count >= 1, targets.shape.count >= 1, inputs.shape[0] == targets.shape[0] else {
            throw DatasetError(
                "the inputs \(inputs.name) have shape \(inputs.shape) and the targets \(targets.name) have shape "
                    + "\(targets.shape); both need the samples on their first axis, the same number in each")
        }
        let n = inputs.shape[0]
        guard n > 0 else { throw DatasetError("\(inputs.name) holds no samples (its first dimension is 0)") }
        (self.inputs, self.task, self.inputType, rows) = (inputs, task, inputType, 0..<n)
        switch task {
        case .classification:
            guard targets.shape.count == 1, !targets.elementType.isFloat else {
                throw DatasetError(
                    "\(targets.name) holds \(targets.elementType.rawValue) \(targets.shape); classification needs "
                        + "one integer label per sample, shape (\(n)). Save y.astype(np.int64), or use task regression")
            }
            let all = (0..<n).map { targets.integer(at: $0) }
            let classes = classCount ?? ((all.max() ?? 0) + 1)
            if let bad = all.firstIndex(where: { $0 < 0 || $0 >= classes }) {
                throw DatasetError(
                    "\(targets.name) has label \(all[bad]) at sample \(bad); labels must lie in 0..<\(classes)"
                        + (classCount == nil ? "" : " (the number of classes given)"))
            }
            (labels, values, targetWidth, self.classCount) = (all.map { Int32($0) }, [], 1, classes)
        case .regression:
            guard targets.shape.count <= 2 else {
                throw DatasetError(
                    "\(targets.name) has shape \(targets.shape); regression targets are (N) or (N, K)")
            }
            let k = targets.shape.count == 2 ? targets.shape[1] : 1
            var all = [Float](repeating: 0, count: n * k)
            all.withUnsafeMutableBufferPointer { targets.convert(0..<(n * k), to: $0.baseAddress!) }
            if let bad = all.firstIndex(where: { !$0.isFinite }) {
                throw DatasetError(
                    "\(targets.name) has \(all[bad]) at sample \(bad / k)\(k > 1 ? ", column \(bad % k)" : ""); "
                        + "targets must be finite numbers: fill or drop those samples")
            }
            (labels, values, targetWidth, self.classCount) = ([], all, k, k)
        }
        guard inputType == .float32 || (inputType == .int32 && !inputs.elementType.isFloat) else {
            throw DatasetError(
                "\(inputs.name) holds \(inputs.elementType.rawValue); int32 inputs (token ids) need an integer array")
        }
        if checkValues { try Self.check(inputs, as: inputType) }
    }

    private init(_ parent: NumpyDataset, rows: Range<Int>) {
        (inputs, task, classCount, inputType, labels, values, targetWidth) = (
            parent.inputs, parent.task, parent.classCount, parent.inputType, parent.labels, parent.values,
            parent.targetWidth
        )
        self.rows = rows
    }

    /// Reads every input once for values a batch cannot hold, releasing mapped pages as it goes.
    private static func check(_ a: NumpyArray, as type: DType) throws {
        let needsCheck = a.elementType.isFloat || (type == .int32 && a.elementType == .int64)
        guard needsCheck, a.count > 0 else { return }
        guard let mapped = a.owner as? MappedFile else { return try scan(a, 0..<a.count, type) }
        let chunk = 1 << 22
        let start = a.base! - UnsafeRawPointer(mapped.bytes.baseAddress!)
        for from in stride(from: 0, to: a.count, by: chunk) {
            let range = from..<min(from + chunk, a.count)
            try scan(a, range, type)
            let size = a.elementType.byteSize
            mapped.release((start + range.lowerBound * size)..<(start + range.upperBound * size))
        }
    }

    private static func scan(_ a: NumpyArray, _ range: Range<Int>, _ type: DType) throws {
        let sample = { (i: Int) in a.rowCount == 0 ? 0 : i / a.rowCount }
        if type == .int32 {
            if let bad = range.first(where: { Int32(exactly: a.integer(at: $0)) == nil }) {
                throw DatasetError(
                    "\(a.name) has \(a.integer(at: bad)) at sample \(sample(bad)), outside int32; token ids must fit")
            }
            return
        }
        let limit = Double(Float.greatestFiniteMagnitude)
        if let bad = range.first(where: {
            let v = a.double(at: $0); return !(abs(v) <= limit)
        }) {
            throw DatasetError(
                "\(a.name) has \(a.double(at: bad)) at sample \(sample(bad)) (element \(bad % max(a.rowCount, 1)) "
                    + "of the sample); inputs must be finite float32 values: fill or drop those samples")
        }
    }

    public var count: Int { rows.count }
    public var inputShape: Shape { Shape(Array(inputs.shape.dropFirst())) }

    /// The samples `range` (positions in this dataset) as a dataset reading the same file.
    public func slice(_ range: Range<Int>) -> NumpyDataset {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "rows \(range) outside \(count)")
        return NumpyDataset(self, rows: (rows.lowerBound + range.lowerBound)..<(rows.lowerBound + range.upperBound))
    }

    /// The first (1 - fraction) of the samples for training and the rest for validation.
    public func split(validationFraction: Double) throws -> (train: NumpyDataset, validation: NumpyDataset) {
        let cut = count - Int((Double(count) * validationFraction).rounded())
        guard validationFraction > 0, validationFraction < 1, cut > 0, cut < count else {
            throw DatasetError(
                "a validation fraction of \(validationFraction) leaves an empty part of \(count) samples; "
                    + "choose one in (0, 1) that leaves samples on both sides")
        }
        return (slice(0..<cut), slice(cut..<count))
    }

    /// Inputs (N, ...) float32 or int32; targets (N) int32 or (N, K) float32.
    public func batch(_ indices: ArraySlice<Int>) -> Batch {
        let width = inputs.rowCount
        let x = NDArray(shape: Shape([indices.count] + inputShape.dims), dtype: inputType, zeroed: false)
        let y =
            task == .classification
            ? NDArray(shape: [indices.count], dtype: .int32, zeroed: false)
            : NDArray(shape: [indices.count, targetWidth], zeroed: false)
        var read: [Range<Int>] = []
        for (row, i) in indices.enumerated() {
            precondition(i >= 0 && i < count, "sample \(i) is outside a dataset of \(count)")
            let r = rows.lowerBound + i
            if inputType == .int32 {
                inputs.convert((r * width)..<((r + 1) * width), to: x.int32Pointer + row * width)
            } else {
                inputs.convert((r * width)..<((r + 1) * width), to: x.ptr + row * width)
            }
            if let mapped = inputs.owner as? MappedFile {
                let size = inputs.elementType.byteSize,
                    start = inputs.base! - UnsafeRawPointer(mapped.bytes.baseAddress!)
                read.append((start + r * width * size)..<(start + (r + 1) * width * size))
            }
            if task == .classification {
                y.int32Pointer[row] = labels[r]
            } else {
                for k in 0..<targetWidth { y.ptr[row * targetWidth + k] = values[r * targetWidth + k] }
            }
        }
        (inputs.owner as? MappedFile)?.releaseBlocks(around: read)
        return Batch(inputs: x, targets: y)
    }
}
