import TensorCore

/// Every window of a token sequence: sample i is ids[i..<i+context] and the target ids[i+context].
public final class NextCharacterDataset: Dataset, @unchecked Sendable {
    public let ids: [Int32]
    public let context: Int
    public let classCount: Int

    public init(ids: [Int32], context: Int, classCount: Int) {
        precondition(
            context >= 1 && ids.count > context, "a text of \(ids.count) characters has no window of \(context) + 1")
        (self.ids, self.context, self.classCount) = (ids, context, classCount)
    }

    public var count: Int { ids.count - context }
    public var inputShape: Shape { [context] }
    public var inputType: DType { .int32 }

    public func batch(_ indices: ArraySlice<Int>) -> Batch {
        let x = NDArray(shape: [indices.count, context], dtype: .int32, zeroed: false)
        let y = NDArray(shape: [indices.count], dtype: .int32, zeroed: false)
        let xp = x.int32Pointer, yp = y.int32Pointer
        ids.withUnsafeBufferPointer { src in
            for (row, i) in indices.enumerated() {
                precondition(i >= 0 && i < count, "sample \(i) is outside a dataset of \(count)")
                (xp + row * context).update(from: src.baseAddress! + i, count: context)
                yp[row] = src[i + context]
            }
        }
        return Batch(inputs: x, targets: y)
    }
}
