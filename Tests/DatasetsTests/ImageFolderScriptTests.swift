import Datasets
import Foundation
import Testing

/// launch/make_image_folder.py writes real datasets as image folders; read back, every image
/// equals the source it came from.
@Suite(
    "Real datasets written as image folders by launch/make_image_folder.py",
    .enabled(if: ImageFixtures.available, "needs python3 with Pillow"))
struct ImageFolderScriptTests {
    @Test(
        .enabled(
            if: FileManager.default.fileExists(atPath: FashionMNIST.defaultDirectory + "/t10k-labels-idx1-ubyte.gz")))
    func fashionMNISTAsPNGsEqualsTheIDXReader() throws {
        let root = temporaryFolder() + "/fashion"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try ImageFixtures.python("make_image_folder.py", ["fashion-mnist", root, "--limit", "300"])
        let folder = try ImageFolder(directory: root, options: ImageFolderOptions(cache: .memory))
        #expect(
            folder.classNames == [
                "ankle_boot", "bag", "coat", "dress", "pullover", "sandal", "shirt", "sneaker", "t-shirt_top",
                "trouser",
            ])
        let idxNames = [
            "t-shirt_top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle_boot",
        ]
        for (split, data) in [(FashionMNIST.Split.train, folder.train), (.test, try #require(folder.test))] {
            let idx = try FashionMNIST.load(split: split, normalize: false, limit: 300)
            #expect(data.count == 300 && data.inputShape == [1, 28, 28])
            let batch = try data.loadBatch(ArraySlice(0..<data.count))
            for (row, file) in data.files.enumerated() {
                let index = Int((file as NSString).lastPathComponent.dropLast(4))!
                let label = Int(idx.labels.int32Pointer[index])
                #expect(folder.classNames[Int(batch.targets.int32Pointer[row])] == idxNames[label])
                let ours = UnsafeBufferPointer(start: batch.inputs.ptr + row * 784, count: 784)
                let theirs = UnsafeBufferPointer(start: idx.inputs.ptr + index * 784, count: 784)
                // The IDX reader multiplies by 1/255 where the decoder divides by 255: 1 ulp apart at most.
                let worst = zip(ours, theirs).map { abs($0 - $1) }.max()!
                #expect(worst <= 1e-7, "\(file) differs from IDX sample \(index) by \(worst)")
            }
        }
    }

    @Test func scikitLearnDigitsAsPNGs() throws {
        let root = temporaryFolder() + "/digits"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try ImageFixtures.python("make_image_folder.py", ["digits", root])
        let folder = try ImageFolder(directory: root)
        #expect(folder.classNames == (0..<10).map(String.init))
        #expect(folder.train.count == 1437 && folder.test?.count == 360 && folder.inputShape == [1, 8, 8])
        // Every pixel is one of the 17 levels of the source, scaled to 0-255 and rounded.
        let levels = Set((0...16).map { (Float(($0 * 255 + 8) / 16)) / 255 })
        let batch = try folder.train.loadBatch(ArraySlice(0..<folder.train.count))
        #expect(UnsafeBufferPointer(start: batch.inputs.ptr, count: 1437 * 64).allSatisfy { levels.contains($0) })
        var perClass = [Int](repeating: 0, count: 10)
        for i in 0..<360 { perClass[Int(folder.test!.labels[i])] += 1 }
        #expect(perClass.reduce(0, +) == 360 && perClass.min()! >= 35)  // stratified: 35-37 per digit
    }
}
