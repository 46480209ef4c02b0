import TensorCore

/// Source and target token sequences for an encoder-decoder model with teacher forcing.
///
/// A batch packs each sample's source (S tokens) and decoder input (the begin token 0, then
/// the target without its last token) into inputs (N, S + T); the targets are (N, T).
public final class SequenceToSequenceDataset: Dataset, @unchecked Sendable {
    /// The synthetic tasks: the target is the source reversed, or sorted.
    public enum Task: String, Sendable, CaseIterable { case reverse, sort }

    public let sources: [[Int32]]
    public let targets: [[Int32]]
    public let classCount: Int

    /// - Parameters:
    ///   - sources: one sequence per sample, all of one length.
    ///   - targets: one sequence per sample, all of one length.
    ///   - vocabulary: token ids lie in 1..<vocabulary; 0 begins every decoder input.
    public init(sources: [[Int32]], targets: [[Int32]], vocabulary: Int) {
        precondition(!sources.isEmpty && sources.count == targets.count, "every source needs one target")
        precondition(
            Set(sources.map(\.count)).count == 1 && Set(targets.map(\.count)).count == 1,
            "sequences must share a length")
        (self.sources, self.targets, classCount) = (sources, targets, vocabulary)
    }

    /// `count` random sources of `length` tokens from 1..<vocabulary and their targets under `task`.
    public static func synthetic(_ task: Task, count: Int, length: Int, vocabulary: Int, seed: UInt64)
        -> SequenceToSequenceDataset
    {
        precondition(
            length >= 1 && vocabulary >= 3,
            "a sequence task needs a length and at least two symbols besides the begin token")
        var rng = PhiloxRNG(seed: seed)
        var draws = [Float](repeating: 0, count: count * length)
        rng.fillUniform(&draws, draws.count)
        let sources = (0..<count).map { i in
            (0..<length).map { 1 + Int32(min(Float(vocabulary - 1) * draws[i * length + $0], Float(vocabulary - 2))) }
        }
        let targets = sources.map { task == .reverse ? Array($0.reversed()) : $0.sorted() }
        return SequenceToSequenceDataset(sources: sources, targets: targets, vocabulary: vocabulary)
    }

    public var count: Int { sources.count }
    public var sourceLength: Int { sources[0].count }
    public var targetLength: Int { targets[0].count }
    public var inputShape: Shape { [sourceLength + targetLength] }
    public var inputType: DType { .int32 }
    public var targetsPerSample: Int { targetLength }
    public var scoresWholeSequences: Bool { true }

    public func batch(_ indices: ArraySlice<Int>) -> Batch {
        var inputs: [Int32] = [], out: [Int32] = []
        inputs.reserveCapacity(indices.count * inputShape[0])
        for i in indices {
            precondition(i >= 0 && i < count, "sample \(i) is outside a dataset of \(count)")
            inputs += sources[i] + [0] + targets[i].dropLast()
            out += targets[i]
        }
        return Batch(
            inputs: NDArray(indices: inputs, shape: [indices.count, inputShape[0]]),
            targets: NDArray(indices: out, shape: [indices.count, targetLength]))
    }

    /// The samples `range` as a new dataset.
    public func slice(_ range: Range<Int>) -> SequenceToSequenceDataset {
        SequenceToSequenceDataset(
            sources: Array(sources[range]), targets: Array(targets[range]), vocabulary: classCount)
    }
}
