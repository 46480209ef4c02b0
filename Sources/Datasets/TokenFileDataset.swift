import TensorCore

/// Windows of a token file as nanoGPT's `prepare.py` writes it (`train.bin`, `val.bin`: raw
/// little-endian uint16 token ids), mapped into memory so only the pages a batch reads are resident.
///
/// Sample i is a window of context + 1 tokens: inputs its first T, targets the T after them
/// (int32 (T) each, as `NextTokenSequenceDataset`). Where a window starts depends on the sample
/// index alone, so the distributed sampler's shards, resumption and world-size invariance work
/// as for any dataset.
public final class TokenFileDataset: Dataset, @unchecked Sendable {
    /// Where the windows start.
    public enum Windows: Sendable, Equatable {
        /// Window i starts at token i·stride: 1 takes every offset (shuffled by the sampler, that is
        /// nanoGPT's random windows without repeats); T gives non-overlapping windows for evaluation.
        /// The sampler holds 8 bytes per sample, so stride 1 costs 4x the file's size in memory:
        /// use a larger stride or `random` for corpora near the memory's size.
        case strided(Int)
        /// `count` windows, window i starting at a position drawn from (seed, i), uniform over the
        /// file as nanoGPT's get_batch draws them (the same positions every epoch).
        case random(count: Int, seed: UInt64)
    }

    public let path: String
    public let vocabularySize: Int
    public let context: Int
    public let windows: Windows
    /// The tokens (positions in the file) this dataset draws windows from.
    public let tokens: Range<Int>
    private let file: MappedFile

    /// Maps a token file and checks every token id in `range` against the vocabulary.
    /// - Parameters:
    ///   - path: the `.bin` file of uint16 ids.
    ///   - vocabularySize: ids must be below it (the model's embedding size), at most 65536.
    ///   - context: T, tokens per sample.
    ///   - windows: where samples start.
    ///   - range: the tokens to use (all when nil), to split one file into parts.
    ///   - checkTokens: read the range once at open for ids at or above the vocabulary size. The
    ///     pass releases the pages behind it, so memory stays flat; switch it off to start faster
    ///     on a file known to be clean (a bad id then makes the embedding lookup fail).
    public init(
        path: String, vocabularySize: Int, context: Int, windows: Windows = .strided(1), range: Range<Int>? = nil,
        checkTokens: Bool = true
    ) throws {
        guard (2...65536).contains(vocabularySize) else {
            throw DatasetError(
                "a vocabulary of \(vocabularySize) tokens does not fit uint16 token files; data.vocab_size must lie "
                    + "in 2...65536")
        }
        guard context >= 1 else { throw DatasetError("data.context must be at least 1, got \(context)") }
        file = try MappedFile(path: path)
        guard file.count % 2 == 0 else {
            throw DatasetError(
                "\(path) has an odd number of bytes (\(file.count)); a token file holds uint16 ids, two bytes each. "
                    + "Write it with np.array(ids, dtype=np.uint16).tofile(path)")
        }
        let all = 0..<(file.count / 2)
        let tokens = range ?? all
        guard tokens.lowerBound >= 0, tokens.upperBound <= all.upperBound else {
            throw DatasetError("tokens \(tokens) lie outside \(path), which holds \(all.count)")
        }
        guard tokens.count > context else {
            throw DatasetError(
                "\(path) holds \(tokens.count) tokens\(range == nil ? "" : " in the part used"), too few for one "
                    + "window of data.context \(context) + 1; use a longer file or a smaller context")
        }
        switch windows {
        case .strided(let s) where s < 1: throw DatasetError("the stride between windows must be positive, got \(s)")
        case .random(let count, _) where count < 1:
            throw DatasetError("a token file needs at least one random window per epoch, got \(count)")
        default: break
        }
        (self.path, self.vocabularySize, self.context, self.windows, self.tokens) = (
            path, vocabularySize, context, windows, tokens
        )
        if checkTokens { try check() }
    }

    /// Finds the first id at or above the vocabulary size, reading the file once in chunks.
    private func check() throws {
        let ids = file.bytes.baseAddress!.assumingMemoryBound(to: UInt16.self)
        let chunk = 1 << 22
        for from in stride(from: tokens.lowerBound, to: tokens.upperBound, by: chunk) {
            let to = min(from + chunk, tokens.upperBound)
            var worst: UInt16 = 0
            for i in from..<to { worst = max(worst, UInt16(littleEndian: ids[i])) }
            if Int(worst) >= vocabularySize {
                let at = (from..<to).first { Int(UInt16(littleEndian: ids[$0])) >= vocabularySize }!
                throw DatasetError(
                    "\(path) has token id \(UInt16(littleEndian: ids[at])) at token \(at) (byte offset \(2 * at)), "
                        + "not below data.vocab_size \(vocabularySize); set data.vocab_size to the tokenizer's "
                        + "vocabulary size, or rewrite the file with that tokenizer")
            }
            file.release((2 * from)..<(2 * to))
        }
    }

    public var count: Int {
        switch windows {
        case .strided(let s): return (tokens.count - context - 1) / s + 1
        case .random(let count, _): return count
        }
    }

    public var inputShape: Shape { [context] }
    public var inputType: DType { .int32 }
    public var classCount: Int { vocabularySize }
    public var targetsPerSample: Int { context }

    /// The first token of window `i`.
    public func start(_ i: Int) -> Int {
        switch windows {
        case .strided(let s): return tokens.lowerBound + i * s
        case .random(_, let seed):
            let bits = PhiloxRNG.block(seed: seed, counter: UInt64(i))
            let r = (UInt64(bits[0]) << 32 | UInt64(bits[1])) % UInt64(tokens.count - context)
            return tokens.lowerBound + Int(r)
        }
    }

    /// inputs (N, T) and targets (N, T), both int32.
    public func batch(_ indices: ArraySlice<Int>) -> Batch {
        let x = NDArray(shape: [indices.count, context], dtype: .int32, zeroed: false)
        let y = NDArray(shape: [indices.count, context], dtype: .int32, zeroed: false)
        let xp = x.int32Pointer, yp = y.int32Pointer
        let ids = file.bytes.baseAddress!.assumingMemoryBound(to: UInt16.self)
        var read: [Range<Int>] = []
        for (row, i) in indices.enumerated() {
            precondition(i >= 0 && i < count, "sample \(i) is outside a dataset of \(count)")
            let first = start(i)
            for t in 0..<context {
                xp[row * context + t] = Int32(UInt16(littleEndian: ids[first + t]))
                yp[row * context + t] = Int32(UInt16(littleEndian: ids[first + t + 1]))
            }
            read.append((2 * first)..<(2 * (first + context + 1)))
        }
        file.releaseBlocks(around: read)
        return Batch(inputs: x, targets: y)
    }
}
