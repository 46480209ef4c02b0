import TensorCore

/// Windows of a token sequence with a target at every position, for language models that
/// predict each next token (GPT, recurrent LMs): sample i is ids[s·i..<s·i+T], its targets
/// one token further, for a stride s.
///
/// Training takes every offset (s = 1: shuffled, that is nanoGPT's random windows without
/// repeats); evaluation takes non-overlapping windows (s = T), so a limited evaluation still
/// covers as much text as it reads.
public final class NextTokenSequenceDataset: Dataset, @unchecked Sendable {
    public let ids: [Int32]
    public let context: Int
    public let classCount: Int
    public let stride: Int

    /// - Parameters:
    ///   - ids: the token sequence.
    ///   - context: T, tokens per sample.
    ///   - classCount: the vocabulary size.
    ///   - stride: tokens between the starts of consecutive samples.
    public init(ids: [Int32], context: Int, classCount: Int, stride: Int = 1) {
        precondition(
            context >= 1 && ids.count > context, "a text of \(ids.count) tokens has no window of \(context) + 1")
        precondition(stride >= 1, "the stride between windows must be positive, got \(stride)")
        (self.ids, self.context, self.classCount, self.stride) = (ids, context, classCount, stride)
    }

    public var count: Int { (ids.count - context - 1) / stride + 1 }
    public var inputShape: Shape { [context] }
    public var inputType: DType { .int32 }
    public var targetsPerSample: Int { context }

    /// inputs (N, T) and targets (N, T), both int32.
    public func batch(_ indices: ArraySlice<Int>) -> Batch {
        let x = NDArray(shape: [indices.count, context], dtype: .int32, zeroed: false)
        let y = NDArray(shape: [indices.count, context], dtype: .int32, zeroed: false)
        let xp = x.int32Pointer, yp = y.int32Pointer
        ids.withUnsafeBufferPointer { src in
            for (row, i) in indices.enumerated() {
                precondition(i >= 0 && i < count, "sample \(i) is outside a dataset of \(count)")
                let start = src.baseAddress! + i * stride
                (xp + row * context).update(from: start, count: context)
                (yp + row * context).update(from: start + 1, count: context)
            }
        }
        return Batch(inputs: x, targets: y)
    }
}
