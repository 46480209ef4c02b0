import Checkpoint
import Datasets
import Foundation
import Testing
@testable import Training

/// The config loader and the file readers fed damaged variants of the seed inputs in
/// Tests/FuzzCorpus: every input gives a result or an error with a message, never a trap
/// (which would end the test process). Seeded, so a failure reproduces; a few seconds in all.
@Suite("Loader fuzzing")
struct LoaderFuzzTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../FuzzCorpus").standardized.path

    /// The seed files of one folder of the corpus, by name.
    static func seeds(_ folder: String) throws -> [(String, [UInt8])] {
        let dir = corpus + "/" + folder
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(!names.isEmpty, "no seed inputs in \(dir)")
        return try names.map { ($0, [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/" + $0)))) }
    }

    /// Feeds `count` mutants of every seed to `read`; each must return or throw an error that
    /// describes itself. The unmutated seeds must be read without error.
    /// - Parameters:
    ///   - folder: the corpus folder.
    ///   - count: mutants per seed.
    ///   - mutator: the mutation stream.
    ///   - read: the reader under test.
    static func fuzz(
        _ folder: String, count: Int, _ mutator: SeededMutator,
        _ read: ([UInt8], String) throws -> Void
    ) throws {
        var mutator = mutator
        var errors = 0, accepted = 0
        let all = try seeds(folder)
        for (name, seed) in all {
            do { try read(seed, name) } catch {
                Issue.record("the seed \(folder)/\(name) does not read: \(error)")
            }
            for i in 0..<count {
                let input = mutator.mutate(seed)
                do {
                    try read(input, "\(name)#\(i)")
                    accepted += 1
                } catch {
                    errors += 1
                    let message = "\(error)"
                    let raw = ["Swift.DecodingError", "NSCocoaErrorDomain"].filter { message.contains($0) }
                    #expect(message.count >= 10 && raw.isEmpty, "\(folder)/\(name) mutant \(i): \(message)")
                }
            }
        }
        // The mutants reach both outcomes, so the reader is exercised beyond its first check.
        #expect(errors > 0 && accepted + errors == count * all.count, "\(errors) errors, \(accepted) read")
    }

    @Test func configLoader() throws {
        let tokens = [
            "-1", "0", "1e400", "-.inf", ".nan", "9223372036854775807", "99999999999999999999", "null",
            "~", "true", "[", "]", "{", "}", ": ", "\n  ", "- ", "&a ", "*a", "<<: ", "!!binary ", "!!int ",
            "'", "\"", "#", "model", "hidden_sizes", "epochs", "batch_size", "lr", "[1000000000000]",
            "{lr: 0}", "\t", "\u{0}",
        ]
        try Self.fuzz("config", count: 100, SeededMutator(seed: 1, dictionary: tokens)) { bytes, name in
            _ = try ConfigLoader.parse(yaml: try ConfigLoader.text(of: bytes, source: name), source: name)
        }
    }

    @Test func idxReader() throws {
        try Self.fuzz("idx", count: 3000, SeededMutator(seed: 2, hotspots: [0, 3, 4, 8, 12])) { bytes, name in
            _ = try IDXFile(bytes, name: name, expectedRank: Int(bytes.count > 3 ? bytes[3] : 1))
        }
    }

    @Test func gzipReader() throws {
        try Self.fuzz("gzip", count: 1500, SeededMutator(seed: 3, hotspots: [0, 1, 2, 3, 10])) { bytes, name in
            _ = try Gzip.decompress(bytes, name: name)
        }
    }

    @Test func tarReader() throws {
        let octal = [
            "-1", "-0000000001", "77777777777", "777777777777777777777", "0000000000000000000000", "\u{0}",
            " ", "L", "0", "5",
        ]
        let sizeFields = [124, 135, 156, 512 + 124, 1024 + 124]
        let mutator = SeededMutator(seed: 4, dictionary: octal, hotspots: sizeFields)
        try Self.fuzz("tar", count: 1500, mutator) { bytes, name in
            _ = try TarArchive.files(bytes, name: name)
        }
    }

    @Test func safetensorsDecoder() throws {
        let json = [
            "-1", "9223372036854775807", "-9223372036854775808", "1e308", "4294967296", "[]", "{}", "null",
            "\"F32\"", "\"I8\"", "\"F64\"", "[9223372036854775807, 2]", "[-4, 0]", "\"shape\"",
            "\"data_offsets\"", ",", ":", "\"",
        ]
        let header = [0, 4, 7, 8, 20, 40, 60]
        let mutator = SeededMutator(seed: 5, dictionary: json, hotspots: header)
        try Self.fuzz("safetensors", count: 2000, mutator) { bytes, name in
            _ = try SafeTensors.decode(Data(bytes), name: name)
        }
    }
}
