import Datasets
import Foundation
import Testing

@Suite("Text corpora from files and folders, at character and byte level")
struct TextCorpusTests {
    /// Characters are Unicode scalars; bytes are bytes; an ASCII text has the same ids at both.
    @Test func characterAndByteLevels() throws {
        let dir = temporaryFolder(), path = dir + "/t.txt"
        try "héllo wörld".write(toFile: path, atomically: true, encoding: .utf8)
        let chars = try TextCorpus(path: path, level: .character)
        #expect(chars.ids.count == 11 && chars.vocabularySize == 9)
        #expect(chars.symbols == " dhlorwéö".unicodeScalars.map(\.value).sorted())
        #expect(chars.decode(chars.ids) == "héllo wörld")
        let bytes = try TextCorpus(path: path, level: .byte)
        #expect(bytes.ids.count == 13 && bytes.vocabularySize == 10 && bytes.decode(bytes.ids) == "héllo wörld")
        #expect(bytes.vocabulary == Array(Set("héllo wörld".utf8)).sorted())
        let ascii = Array("to be or not to be".utf8)
        let a = try TextCorpus(bytes: ascii, level: .character), b = try TextCorpus(bytes: ascii, level: .byte)
        #expect(a.ids == b.ids && a.ids == CharacterCorpus(ascii).ids && a.vocabulary == b.vocabulary)
        // A prefix has its own, smaller vocabulary.
        let p = chars.prefix(4)
        #expect(p.decode(p.ids) == "héll" && p.vocabularySize == 3)
    }

    /// A folder's .txt files, at any depth, in path order, each ending in a newline.
    @Test func folderOfTexts() throws {
        let dir = temporaryFolder()
        try FileManager.default.createDirectory(atPath: dir + "/b", withIntermediateDirectories: true)
        try "second\n".write(toFile: dir + "/b/x.txt", atomically: true, encoding: .utf8)
        try "first".write(toFile: dir + "/a.txt", atomically: true, encoding: .utf8)
        try "not text".write(toFile: dir + "/notes.md", atomically: true, encoding: .utf8)
        let corpus = try TextCorpus(path: dir)
        #expect(corpus.decode(corpus.ids) == "first\nsecond\n")
        let ds = corpus.sequenceDataset(context: 4, range: 0..<corpus.ids.count, stride: 4)
        #expect(ds.count == 3 && corpus.decode(ds.batch([1]).inputs.indices) == "t\nse")
        let windows = corpus.nextCharacterDataset(context: 5, range: 0..<corpus.ids.count)
        #expect(corpus.decode(windows.batch([0]).targets.indices) == "\n")
    }

    /// Bad input names the file, the byte offset or the part that is too short.
    @Test func errors() throws {
        let dir = temporaryFolder(), path = dir + "/latin1.txt"
        _ = FileManager.default.createFile(atPath: path, contents: Data([0x61, 0x62, 0xE9, 0x63]))
        #expect(
            message { _ = try TextCorpus(path: path) }?.contains(
                "latin1.txt is not valid UTF-8 at byte 2 (byte 0xe9); convert it to UTF-8") == true)
        #expect(try TextCorpus(path: path, level: .byte).ids.count == 4)
        #expect(message { _ = try TextCorpus(path: dir + "/none.txt") }?.contains("does not exist") == true)
        let empty = temporaryFolder()
        #expect(message { _ = try TextCorpus(path: empty) }?.contains("holds no .txt files") == true)
        try "ab".write(toFile: empty + "/x.txt", atomically: true, encoding: .utf8)
        let short = try TextCorpus(path: empty + "/x.txt")
        #expect(
            message { _ = try short.split(validationFraction: 0.5, context: 4, name: "x.txt") }?.contains(
                "the training part of x.txt (1 of 2 symbols) is too short") == true)
        let corpus = try TextCorpus(bytes: Array(String(repeating: "abcdefghij", count: 3).utf8))
        let parts = try corpus.split(validationFraction: 0.2, context: 4, name: "t")
        #expect(parts.train == 0..<24 && parts.validation == 24..<30)
    }
}
