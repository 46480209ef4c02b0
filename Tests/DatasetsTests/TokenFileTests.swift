import Datasets
import Foundation
import Testing

@Suite("nanoGPT token files (uint16 .bin), memory-mapped")
struct TokenFileTests {
    /// Writes `ids` as little-endian uint16.
    static func write(_ ids: [UInt16], _ path: String) {
        NumpyFixtures.write(NumpyFixtures.bytes(ids.map { $0.littleEndian }), path)
    }

    @Test func stridedWindows() throws {
        let path = temporaryFolder() + "/train.bin"
        Self.write((0..<20).map { UInt16($0 * 3 % 50) }, path)
        let every = try TokenFileDataset(path: path, vocabularySize: 50, context: 4)
        #expect(every.count == 16 && every.classCount == 50 && every.targetsPerSample == 4 && every.inputShape == [4])
        let b = every.batch([15, 2])
        #expect(b.inputs.indices == [45, 48, 1, 4, 6, 9, 12, 15] && b.targets.indices == [48, 1, 4, 7, 9, 12, 15, 18])
        let apart = try TokenFileDataset(path: path, vocabularySize: 50, context: 4, windows: .strided(4))
        #expect(apart.count == 4 && apart.batch([3]).targets.indices == [39, 42, 45, 48])
        // A part of the file: windows stay inside it.
        let tail = try TokenFileDataset(path: path, vocabularySize: 50, context: 4, range: 10..<20)
        #expect(tail.count == 6 && tail.batch([0]).inputs.indices == [30, 33, 36, 39])
    }

    /// Random windows depend only on (seed, index) and stay inside the tokens.
    @Test func randomWindows() throws {
        let path = temporaryFolder() + "/train.bin"
        Self.write((0..<1000).map { UInt16($0 % 7) }, path)
        let ds = try TokenFileDataset(
            path: path, vocabularySize: 7, context: 8, windows: .random(count: 500, seed: 3), range: 100..<400)
        let starts = (0..<500).map(ds.start)
        #expect(starts.allSatisfy { $0 >= 100 && $0 + 8 < 400 } && Set(starts).count > 200)
        #expect(starts.min()! < 110 && starts.max()! > 385)
        let again = try TokenFileDataset(
            path: path, vocabularySize: 7, context: 8, windows: .random(count: 500, seed: 3), range: 100..<400)
        #expect(again.batch([7, 99]).inputs.indices == ds.batch([7, 99]).inputs.indices)
        let b = ds.batch([42])
        #expect(b.inputs.indices == (0..<8).map { Int32((starts[42] + $0) % 7) })
        #expect(b.targets.indices == (1...8).map { Int32((starts[42] + $0) % 7) })
    }

    /// Bad files and settings are errors naming the file, the token and its byte offset.
    @Test func errors() throws {
        let dir = temporaryFolder(), path = dir + "/val.bin"
        Self.write([1, 2, 3, 300, 4, 5], path)
        #expect(
            message { _ = try TokenFileDataset(path: path, vocabularySize: 256, context: 2) }?.contains(
                "val.bin has token id 300 at token 3 (byte offset 6), not below data.vocab_size 256") == true)
        #expect(try TokenFileDataset(path: path, vocabularySize: 256, context: 2, range: 0..<3).count == 1)
        NumpyFixtures.write([1, 0, 2], dir + "/odd.bin")
        #expect(
            message { _ = try TokenFileDataset(path: dir + "/odd.bin", vocabularySize: 9, context: 1) }?.contains(
                "odd.bin has an odd number of bytes (3)") == true)
        #expect(
            message { _ = try TokenFileDataset(path: path, vocabularySize: 70_000, context: 2) }?.contains(
                "must lie in 2...65536") == true)
        #expect(
            message { _ = try TokenFileDataset(path: path, vocabularySize: 400, context: 6) }?.contains(
                "holds 6 tokens, too few for one window of data.context 6 + 1") == true)
        #expect(
            message { _ = try TokenFileDataset(path: dir + "/none.bin", vocabularySize: 9, context: 1) }?.contains(
                "cannot open \(dir)/none.bin") == true)
    }

    /// Opening a large file reads every token once but keeps resident memory flat.
    @Test func checkingKeepsMemoryFlat() throws {
        let path = temporaryFolder() + "/big.bin"
        let block = NumpyFixtures.bytes((0..<(1 << 16)).map { UInt16($0 % 50_000).littleEndian })
        var data = Data(capacity: block.count << 9)
        for _ in 0..<(1 << 9) { data.append(contentsOf: block) }
        _ = FileManager.default.createFile(atPath: path, contents: data)
        data = Data()
        let n = 1 << 25  // 64 MiB of tokens, id i % 65536 % 50000
        let ds = try TokenFileDataset(path: path, vocabularySize: 50_000, context: 64, windows: .strided(64))
        #expect(ds.count == (n - 65) / 64 + 1)
        // Reading every page and keeping them would leave all 64 MiB resident.
        let resident = residentBytes(mapping: path)
        #expect(resident >= 0 && resident < 16 << 20, "\(resident >> 20) MiB of 64 stay resident after the check")
        let last = (ds.count - 1) * 64 + 64
        #expect(ds.batch([ds.count - 1]).targets.indices.last == Int32(last % 65536 % 50_000))
    }

    /// Batches of random windows leave no more than a few blocks of the file resident: the kernel
    /// maps a whole page-cache folio for one read, which the batch then gives back.
    @Test func randomWindowsKeepMemoryFlat() throws {
        let path = temporaryFolder() + "/random.bin"
        let block = NumpyFixtures.bytes((0..<(1 << 16)).map { UInt16($0 % 50_000).littleEndian })
        var data = Data(capacity: block.count << 9)
        for _ in 0..<(1 << 9) { data.append(contentsOf: block) }
        _ = FileManager.default.createFile(atPath: path, contents: data)
        data = Data()
        let ds = try TokenFileDataset(
            path: path, vocabularySize: 50_000, context: 64, windows: .random(count: 512, seed: 3), checkTokens: false)
        for first in stride(from: 0, to: 512, by: 16) {
            let b = ds.batch(ArraySlice(first..<(first + 16)))
            let start = ds.start(first)
            #expect(b.inputs.int32Pointer[0] == Int32(start % 65536 % 50_000))
        }
        // 512 windows over 64 MiB, each keeping its folio, would leave most of the file resident.
        let resident = residentBytes(mapping: path)
        #expect(resident >= 0 && resident < 8 << 20, "\(resident >> 20) MiB of 64 stay resident after 512 windows")
    }
}
