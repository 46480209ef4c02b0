import Datasets
import Foundation
import Testing

/// The .npy, .npz, CSV and token readers fed damaged variants of valid files: every variant
/// gives a result or a `DatasetError`, never a trap (which would end the test process).
/// Seeded, so a failure reproduces.
@Suite("Fuzzing the NumPy, CSV and token readers")
struct ArrayReaderFuzzTests {
    typealias F = NumpyFixtures

    /// A seeded stream of damage: cuts, flipped bytes, overwritten runs and inserted bytes, with
    /// a bias towards `hotspots` (header fields).
    struct Mutator {
        var state: UInt64
        let hotspots: [Int]

        mutating func next(_ bound: Int) -> Int {
            // SplitMix64.
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(max(bound, 1)))
        }

        mutating func mutate(_ seed: [UInt8]) -> [UInt8] {
            var b = seed
            for _ in 0...next(3) {
                let at =
                    next(4) == 0 && !hotspots.isEmpty ? hotspots[next(hotspots.count)] + next(4) : next(b.count + 1)
                let p = min(at, b.count)
                switch next(5) {
                case 0: b = Array(b.prefix(p))
                case 1 where p < b.count: b[p] ^= UInt8(1 << next(8))
                case 2 where p < b.count: b[p] = [0, 0xff, 0x7f, 0x80, UInt8(ascii: ","), UInt8(ascii: "\"")][next(6)]
                case 3: b.insert(contentsOf: (0..<next(9)).map { _ in UInt8(next(256)) }, at: p)
                default: if p < b.count { b.removeSubrange(p..<min(b.count, p + 1 + next(8))) }
                }
            }
            return b
        }
    }

    /// Runs `read` on `count` mutants of `seed`; every failure must be a `DatasetError`.
    static func fuzz(_ seed: [UInt8], count: Int, hotspots: [Int], _ read: ([UInt8]) throws -> Void) throws {
        try read(seed)
        var mutator = Mutator(state: UInt64(seed.count), hotspots: hotspots)
        var errors = 0
        for i in 0..<count {
            do {
                try read(mutator.mutate(seed))
            } catch let error as DatasetError {
                errors += 1
                #expect(error.description.count > 20, "mutant \(i): \(error)")
            } catch {
                Issue.record("mutant \(i) threw \(type(of: error)), not a DatasetError: \(error)")
            }
        }
        #expect(errors > count / 10 && errors < count, "\(errors) of \(count) mutants were errors")
    }

    @Test func npy() throws {
        let seed = F.npy("<f4", [3, 4], F.bytes((0..<12).map { Float($0) }), version: 2)
        try Self.fuzz(seed, count: 3000, hotspots: [0, 6, 8, 12, 20, 40]) { bytes in
            let array = try bytes.withUnsafeBytes { try NumpyArrayFile.parse($0, owner: NSObject(), name: "x.npy") }
            _ = (0..<array.count).reduce(0) { $0 + array.double(at: $1) }
        }
    }

    @Test func npz() throws {
        let path = temporaryFolder() + "/d.npz"
        let seed = F.zipStored([
            ("x.npy", F.npy("<i8", [2, 2], F.bytes([Int64(1), 2, 3, 4]))), ("y.npy", F.npy("|u1", [2], [0, 1])),
        ])
        try Self.fuzz(seed, count: 1500, hotspots: [0, 8, 18, 26, seed.count - 22, seed.count - 10]) { bytes in
            F.write(bytes, path)
            let archive = try NumpyArchive(path: path)
            for key in archive.keys {
                let a = try archive.array(key)
                _ = (0..<a.count).map { a.double(at: $0) }
            }
        }
    }

    @Test func csv() throws {
        let seed = Array("a,b,\"c, d\",y\n1,2.5,red,0\n3,-1,\"bl\"\"ue\",1\n4,0,red,1\n".utf8)
        try Self.fuzz(seed, count: 3000, hotspots: [0, 10, 20]) { bytes in
            let table = try bytes.withUnsafeBytes { try CSVTable($0, name: "t.csv") }
            _ = try TableDataset(table: table, target: [table.columns.last!], task: .classification, missing: .mean)
        }
    }

    @Test func tokens() throws {
        let path = temporaryFolder() + "/t.bin"
        let seed = F.bytes((0..<64).map { UInt16($0 % 50) })
        try Self.fuzz(seed, count: 1000, hotspots: [0, 60, 120]) { bytes in
            F.write(bytes, path)
            let ds = try TokenFileDataset(path: path, vocabularySize: 60, context: 8)
            _ = ds.batch(ArraySlice(0..<ds.count))
        }
    }
}
