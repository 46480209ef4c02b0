import Datasets
import Foundation
import Testing

@Suite("NumPy .npy and .npz readers and NumpyDataset, on files the tests write")
struct NumpyTests {
    typealias F = NumpyFixtures

    /// Every supported dtype and format version reads back the values written.
    @Test func readsEveryDtypeAndVersion() throws {
        let dir = temporaryFolder()
        let cases: [(String, [UInt8], [Double])] = [
            ("<f4", F.bytes([Float(1.5), -2, 3.25, 0]), [1.5, -2, 3.25, 0]),
            ("<f8", F.bytes([1e-3, -7.0, 2.5, 1e30]), [1e-3, -7, 2.5, 1e30]),
            ("|u1", [0, 7, 255, 128], [0, 7, 255, 128]),
            ("<i2", F.bytes([Int16(-300), 4, 5, 32767]), [-300, 4, 5, 32767]),
            ("<u2", F.bytes([UInt16(65535), 1, 2, 3]), [65535, 1, 2, 3]),
            ("<i4", F.bytes([Int32(-5), 6, 7, 8]), [-5, 6, 7, 8]),
            ("<i8", F.bytes([Int64(-9), 10, 11, 1 << 40]), [-9, 10, 11, Double(1 << 40)]),
            ("|b1", [0, 1, 1, 0], [0, 1, 1, 0]),
        ]
        for (descr, data, expected) in cases {
            for version: UInt8 in [1, 2, 3] {
                let path = dir + "/a\(version).npy"
                F.write(F.npy(descr, [2, 2], data, version: version), path)
                let a = try NumpyArrayFile.open(path)
                #expect(a.shape == [2, 2], "\(descr) v\(version)")
                #expect((0..<4).map { a.double(at: $0) } == expected, "\(descr) v\(version)")
            }
        }
        let big = try NumpyArrayFile.open(dir + "/a1.npy")
        #expect(big.elementType == .bool && big.rowCount == 2)
    }

    /// Damaged or unsupported files are errors naming the file and saying how to fix it.
    @Test(
        arguments: [
            ("magic", [UInt8](repeating: 7, count: 40), "is not a .npy file"),
            ("truncated", Array(F.npy("<f4", [3], F.bytes([Float(1), 2, 3])).dropLast(2)), "the file is truncated"),
            ("too long", F.npy("<f4", [3], F.bytes([Float(1), 2, 3, 4])), "the file is too long"),
            ("fortran", F.npy("<f4", [1, 1], F.bytes([Float(1)]), fortran: true), "Fortran (column-major) order"),
            ("complex", F.npy("<c8", [1], [0, 0, 0, 0, 0, 0, 0, 0]), "holds dtype '<c8'"),
            ("big-endian", F.npy(">f4", [1], [0, 0, 0, 0]), "big-endian"),
            ("version", [0x93] + Array("NUMPY".utf8) + [9, 0, 0, 0], "format version 9"),
            ("header", Array(F.npy("<f4", [1], [0, 0, 0, 0]).prefix(30)), "truncated inside its header"),
        ] as [(String, [UInt8], String)])
    func damagedFiles(name: String, bytes: [UInt8], expected: String) {
        let path = temporaryFolder() + "/bad.npy"
        F.write(bytes, path)
        let text = message { _ = try NumpyArrayFile.open(path) }
        #expect(text?.contains(expected) == true && text?.contains(path) == true, "\(name): \(text ?? "no error")")
    }

    @Test func missingFileAndFolder() {
        let dir = temporaryFolder()
        #expect(
            message { _ = try NumpyArrayFile.open(dir + "/none.npy") }?.contains("cannot open \(dir)/none.npy") == true)
        #expect(message { _ = try NumpyArrayFile.open(dir) }?.contains("is a folder") == true)
    }

    /// A stored .npz reads in place; a missing key lists the keys there are.
    @Test func storedArchive() throws {
        let dir = temporaryFolder(), path = dir + "/d.npz"
        let x = F.npy("<f4", [3, 2], F.bytes([Float(0), 1, 2, 3, 4, 5]))
        let y = F.npy("<i8", [3], F.bytes([Int64(2), 0, 1]))
        F.write(F.zipStored([("x.npy", x), ("y.npy", y)]), path)
        let archive = try NumpyArchive(path: path)
        #expect(archive.keys == ["x", "y"])
        let ds = try NumpyDataset(
            inputs: NumpyArrayFile.open(path, key: "x"), targets: archive.array("y.npy"))
        #expect(ds.count == 3 && ds.classCount == 3 && ds.inputShape == [2])
        let b = ds.batch([2, 0])
        #expect(b.inputs.scalars == [4, 5, 0, 1] && b.targets.indices == [1, 2])
        #expect(message { _ = try archive.array("z") }?.contains("holds no array 'z'; it holds 'x', 'y'") == true)
        #expect(message { _ = try NumpyArrayFile.open(path) }?.contains("name the array") == true)
        let whole = F.zipStored([("x.npy", x)])
        F.write(Array(whole.prefix(whole.count - 30)), dir + "/cut.npz")
        #expect(message { _ = try NumpyArchive(path: dir + "/cut.npz") }?.contains("truncated or not a zip") == true)
        var cut = whole
        cut.removeSubrange(60..<80)  // the entry's data now runs into the directory
        F.write(cut, dir + "/short.npz")
        let text = message { _ = try NumpyArchive(path: dir + "/short.npz").array("x") }
        #expect(text?.contains("short.npz") == true && text?.contains("damaged") == true, "\(text ?? "no error")")
    }

    /// Sizes and offsets from a zip64 record are checked before any arithmetic on them.
    @Test func zip64RecordPastTheEnd() {
        let path = temporaryFolder() + "/z.npz"
        let zip = F.zipStored([("x.npy", F.npy("|u1", [1], [7]))])
        // A zip64 locator, just before the end record, naming a record near Int.max.
        let locator: [UInt8] =
            [0x50, 0x4b, 0x06, 0x07, 0, 0, 0, 0] + [0xf0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f] + [1, 0, 0, 0]
        F.write(Array(zip.dropLast(22)) + locator + zip.suffix(22), path)
        #expect(
            message { _ = try NumpyArchive(path: path) }?.contains("z.npz is not a readable .npz archive (bad zip64")
                == true)
    }

    /// Classification and regression batches convert only the rows asked for.
    @Test func datasetBatches() throws {
        let dir = temporaryFolder()
        F.write(F.npy("|u1", [4, 1, 2], [1, 2, 3, 4, 5, 6, 255, 0]), dir + "/x.npy")
        F.write(F.npy("<i4", [4], F.bytes([Int32(0), 3, 1, 1])), dir + "/y.npy")
        F.write(F.npy("<f8", [4, 2], F.bytes([0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4])), dir + "/r.npy")
        F.write(F.npy("<f4", [4], F.bytes([Float(9), 8, 7, 6])), dir + "/r1.npy")
        let x = try NumpyArrayFile.open(dir + "/x.npy")
        let c = try NumpyDataset(inputs: x, targets: NumpyArrayFile.open(dir + "/y.npy"), classCount: 5)
        #expect(c.classCount == 5 && c.task == .classification && c.inputShape == [1, 2] && c.inputType == .float32)
        let b = c.batch([3, 1])
        #expect(b.inputs.shape == [2, 1, 2] && b.inputs.scalars == [255, 0, 3, 4] && b.targets.indices == [1, 3])
        let r = try NumpyDataset(inputs: x, targets: NumpyArrayFile.open(dir + "/r.npy"), task: .regression)
        #expect(r.task == .regression && r.targetWidth == 2 && r.classCount == 2)
        let rb = r.batch([2])
        #expect(rb.targets.shape == [1, 2] && rb.targets.scalars == [2.5, 3] && rb.flatTargets.shape == [1, 2])
        let r1 = try NumpyDataset(inputs: x, targets: NumpyArrayFile.open(dir + "/r1.npy"), task: .regression)
        #expect(r1.targetWidth == 1 && r1.batch([1, 3]).targets.scalars == [8, 6])
        let tokens = try NumpyDataset(
            inputs: x, targets: NumpyArrayFile.open(dir + "/y.npy"), inputType: .int32)
        #expect(tokens.batch([2]).inputs.indices == [5, 6])
        // Splits are views of the same file.
        let (train, validation) = try c.split(validationFraction: 0.25)
        #expect(train.count == 3 && validation.count == 1 && validation.batch([0]).targets.indices == [1])
        #expect(message { _ = try c.split(validationFraction: 0.01) }?.contains("leaves an empty part") == true)
    }

    /// Disagreeing files, bad labels and non-finite values name the file, the sample and the fix.
    @Test func badDatasets() throws {
        let dir = temporaryFolder()
        func put(_ name: String, _ bytes: [UInt8]) throws -> NumpyArray {
            F.write(bytes, dir + "/" + name)
            return try NumpyArrayFile.open(dir + "/" + name)
        }
        let x = try put("x.npy", F.npy("<f4", [3, 2], F.bytes([Float(0), 1, 2, 3, 4, 5])))
        let y4 = try put("y4.npy", F.npy("<i8", [4], F.bytes([Int64(0), 1, 0, 1])))
        let shapes = message { _ = try NumpyDataset(inputs: x, targets: y4) }
        #expect(
            shapes?.contains("\(dir)/x.npy have shape [3, 2]") == true
                && shapes?.contains("y4.npy have shape [4]") == true)
        let negative = try put("neg.npy", F.npy("<i8", [3], F.bytes([Int64(0), -1, 0])))
        #expect(
            message { _ = try NumpyDataset(inputs: x, targets: negative) }?.contains("label -1 at sample 1") == true)
        let big = try put("big.npy", F.npy("<i4", [3], F.bytes([Int32(0), 1, 7])))
        #expect(
            message { _ = try NumpyDataset(inputs: x, targets: big, classCount: 3) }?.contains(
                "big.npy has label 7 at sample 2; labels must lie in 0..<3") == true)
        let floats = try put("f.npy", F.npy("<f4", [3], F.bytes([Float(0), 1, 0])))
        #expect(
            message { _ = try NumpyDataset(inputs: x, targets: floats) }?.contains("Save y.astype(np.int64)") == true)
        let y = try put("y.npy", F.npy("<i8", [3], F.bytes([Int64(0), 1, 0])))
        let nan = try put("nan.npy", F.npy("<f8", [3, 2], F.bytes([0, 1, 2, Double.nan, 4, 5])))
        #expect(
            message { _ = try NumpyDataset(inputs: nan, targets: y) }?.contains(
                "nan.npy has nan at sample 1 (element 1 of the sample)") == true)
        _ = try NumpyDataset(inputs: nan, targets: y, checkValues: false)
        let huge = try put("huge.npy", F.npy("<f8", [3, 2], F.bytes([0, 1, 2, 1e300, 4, 5])))
        #expect(message { _ = try NumpyDataset(inputs: huge, targets: y) }?.contains("1e+300 at sample 1") == true)
        let inf = try put("inf.npy", F.npy("<f4", [3], F.bytes([Float(0), .infinity, 0])))
        #expect(
            message { _ = try NumpyDataset(inputs: x, targets: inf, task: .regression) }?.contains(
                "inf.npy has inf at sample 1") == true)
        let wide = try put("w.npy", F.npy("<i8", [3, 1], F.bytes([Int64(0), 1 << 40, 0])))
        #expect(
            message { _ = try NumpyDataset(inputs: wide, targets: y, inputType: .int32) }?.contains("outside int32")
                == true)
        #expect(
            message { _ = try NumpyDataset(inputs: x, targets: y, inputType: .int32) }?.contains(
                "need an integer array") == true)
    }

    /// Files NumPy itself writes: .npy, np.savez and np.savez_compressed.
    @Test(.enabled(if: NumpyFixtures.numpyAvailable)) func filesWrittenByNumpy() throws {
        let dir = temporaryFolder()
        try F.python(
            """
            import numpy as np
            x = np.arange(24, dtype=np.float64).reshape(4, 2, 3) / 8
            y = np.array([2, 0, 1, 2], dtype=np.int64)
            np.save('\(dir)/x.npy', x); np.save('\(dir)/big.npy', x.astype('>f4'))
            np.save('\(dir)/f.npy', np.asfortranarray(x))
            np.savez('\(dir)/s.npz', inputs=x, labels=y)
            np.savez_compressed('\(dir)/c.npz', inputs=x.astype(np.float32), labels=y)
            """)
        let expected = (0..<24).map { Float($0) / 8 }
        for (path, key) in [(dir + "/x.npy", nil), (dir + "/s.npz", "inputs"), (dir + "/c.npz", "inputs")] {
            let x = try NumpyArrayFile.open(path, key: key)
            let ds = try NumpyDataset(
                inputs: x, targets: NumpyArrayFile.open(path.hasSuffix(".npy") ? dir + "/s.npz" : path, key: "labels"))
            #expect(ds.inputShape == [2, 3] && ds.classCount == 3, "\(path)")
            let b = ds.batch([0, 1, 2, 3])
            #expect(b.inputs.scalars == expected && b.targets.indices == [2, 0, 1, 2], "\(path)")
        }
        #expect(message { _ = try NumpyArrayFile.open(dir + "/big.npy") }?.contains("big-endian") == true)
        #expect(message { _ = try NumpyArrayFile.open(dir + "/f.npy") }?.contains("Fortran") == true)
        // A damaged compressed entry fails its check instead of giving wrong numbers.
        var bytes = [UInt8](FileManager.default.contents(atPath: dir + "/c.npz")!)
        bytes[120] ^= 0x55  // inside the first entry's deflate stream
        F.write(bytes, dir + "/bad.npz")
        let text = message { _ = try NumpyArchive(path: dir + "/bad.npz").array("inputs") }
        #expect(text?.contains("bad.npz (array 'inputs')") == true, "\(text ?? "no error")")
    }

    /// Checking a file's values at open keeps memory flat: the pages read are released.
    @Test func checkingReleasesPages() throws {
        let path = temporaryFolder() + "/large.npy"
        let n = 24 << 20  // 96 MiB of float32
        var data = [UInt8](repeating: 0, count: n * 4)
        data[n * 4 - 2] = 0x80  // a small finite value in the last element
        F.write(F.npy("<f4", [n / 64, 64], data), path)
        data = []
        F.write(F.npy("|u1", [n / 64], [UInt8](repeating: 0, count: n / 64)), path + ".labels.npy")
        let ds = try NumpyDataset(
            inputs: NumpyArrayFile.open(path), targets: NumpyArrayFile.open(path + ".labels.npy"), checkValues: true)
        #expect(ds.count == n / 64)
        // Reading every page and keeping them would leave all 96 MiB resident.
        let resident = residentBytes(mapping: path)
        #expect(resident >= 0 && resident < 16 << 20, "\(resident >> 20) MiB of 96 stay resident after the check")
        _ = ds.batch([0, 7])
        #expect(residentBytes(mapping: path) < 16 << 20)
    }
}

/// The resident bytes of this process's mappings of `path`, from /proc/self/smaps: the pages
/// of that file in memory, whatever other tests running alongside allocate.
func residentBytes(mapping path: String) -> Int {
    // Read to the end with read(2): Foundation stops short on /proc files, whose size says 0.
    var bytes: [UInt8] = [], chunk = [UInt8](repeating: 0, count: 1 << 16)
    let fd = open("/proc/self/smaps", O_RDONLY)
    guard fd >= 0 else { return -1 }
    defer { close(fd) }
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        bytes += chunk.prefix(n)
    }
    let text = String(decoding: bytes, as: UTF8.self)
    var inside = false, total = 0
    for line in text.split(separator: "\n") {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        if let first = fields.first, first.contains("-"), fields.count >= 5, !first.hasSuffix(":") {
            inside = fields.count >= 6 && fields[5...].joined(separator: " ") == path
        } else if inside, fields.first == "Rss:", fields.count >= 2 {
            total += (Int(fields[1]) ?? 0) * 1024
        }
    }
    return total
}
