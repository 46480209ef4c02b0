import Datasets
import Foundation
import Testing

@Suite(
    "Image folders: layout, lazy decoding, conversion, bad files",
    .enabled(if: ImageFixtures.available, "needs python3 with Pillow to write the fixtures"))
struct ImageFolderDatasetTests {
    /// A folder laid out as `layout` says: split, then class, then files as "name=fixture" (the
    /// fixture copied in as `name`, which may hold a sub-folder); a class named "" puts the files
    /// directly in the split folder.
    static func folder(_ layout: [String: [String: [String]]]) throws -> String {
        let root = temporaryFolder(), fm = FileManager.default
        for (split, classes) in layout {
            for (name, files) in classes {
                let dir = root + "/" + split + (name.isEmpty ? "" : "/" + name)
                try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
                for file in files {
                    let parts = file.split(separator: "=").map(String.init)
                    let target = dir + "/" + parts[0]
                    try fm.createDirectory(
                        atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                    try fm.copyItem(atPath: try ImageFixtures.path(parts.last!), toPath: target)
                }
            }
        }
        return root
    }

    /// The fixture's pixels as the decoder gives them with `channels`.
    static func pixels(_ name: String, channels: Int? = nil) throws -> [Float] {
        try ImageDecoder.decode(try ImageFixtures.path(name), channels: channels).pixels
    }

    @Test func scansSortedClassesAndDecodesTheRequestedSamples() throws {
        let root = try Self.folder([
            "train": [
                "shirt": ["b.png=rgb8.png", "a.png=rgba8.png"], "boot": ["x.jpg=rgb.jpg", "sub/y.png=palette8.png"],
            ],
            "test": ["boot": ["t.png=rgb16.png"], "shirt": ["u.png=rgb8interlaced.png"]],
        ])
        let folder = try ImageFolder(directory: root)
        #expect(folder.classNames == ["boot", "shirt"])
        #expect(folder.validation == nil)
        let train = folder.train, test = try #require(folder.test)
        #expect(train.count == 4 && test.count == 2 && train.inputShape == [3, 5, 7] && train.classCount == 2)
        #expect(train.files.map { ($0 as NSString).lastPathComponent } == ["y.png", "x.jpg", "a.png", "b.png"])
        #expect(train.labels == [0, 0, 1, 1])
        let batch = try train.loadBatch([3, 1])
        #expect(batch.inputs.shape == [2, 3, 5, 7] && batch.count == 2)
        #expect(Array(UnsafeBufferPointer(start: batch.inputs.ptr, count: 105)) == (try Self.pixels("rgb8.png")))
        #expect(Array(UnsafeBufferPointer(start: batch.inputs.ptr + 105, count: 105)) == (try Self.pixels("rgb.jpg")))
        #expect(batch.targets.int32Pointer[0] == 1 && batch.targets.int32Pointer[1] == 0)
        let t = test.batch([0])
        #expect(Array(UnsafeBufferPointer(start: t.inputs.ptr, count: 105)) == (try Self.pixels("rgb16.png")))
    }

    @Test func channelsAndSizeFollowTheFirstImageUnlessSet() throws {
        let root = try Self.folder(["train": ["a": ["1.png=grey8.png"], "b": ["2.png=rgb8.png", "3.jpg=grey.jpg"]]])
        let natural = try ImageFolder(directory: root)
        #expect(natural.inputShape == [1, 5, 7])
        let b = try natural.train.loadBatch([1])
        #expect(
            Array(UnsafeBufferPointer(start: b.inputs.ptr, count: 35)) == (try Self.pixels("rgb8.png", channels: 1)))
        let set = try ImageFolder(
            directory: root, options: ImageFolderOptions(imageSize: ImageSize(height: 3, width: 4), channels: 3))
        #expect(set.inputShape == [3, 3, 4])
        let resized = try set.train.loadBatch([0, 1])
        let grey = ImageResize.resize(
            try ImageDecoder.decode(try ImageFixtures.path("grey8.png"), channels: 3), height: 3, width: 4)
        #expect(Array(UnsafeBufferPointer(start: resized.inputs.ptr, count: 36)) == grey.pixels)
    }

    @Test func imagesOfAnotherSizeAreAnErrorNamingBothSizesUnlessASizeIsSet() throws {
        let root = try Self.folder(["train": ["a": ["1.png=grey8.png"], "b": ["2.png=resize.png"]]])
        let error = message { _ = try ImageFolder(directory: root) }
        #expect(
            error
                == "\(root)/train/b/2.png: is 17x23 (height x width) but the first image, \(root)/train/a/1.png, "
                + "is 5x7; set data.image_size: [H, W] to resize every image to one size; repair or remove the file, "
                + "or set data.skip_bad_files: true to skip and count unreadable files")
        let sized = try ImageFolder(
            directory: root, options: ImageFolderOptions(imageSize: ImageSize(height: 5, width: 7)))
        #expect(sized.train.count == 2 && sized.train.batch([1]).inputs.shape == [1, 1, 5, 7])
    }

    @Test func layoutMistakesAreErrorsNamingTheFolder() throws {
        let missing = temporaryFolder() + "/nothing"
        #expect(
            message { _ = try ImageFolder(directory: missing) }?.hasPrefix("image folder \(missing) does not exist")
                == true)
        let noTrain = try Self.folder(["test": ["a": ["1.png=grey8.png"]]])
        #expect(
            message { _ = try ImageFolder(directory: noTrain) }?.hasPrefix(
                "image folder \(noTrain) has no train/ folder") == true)
        let noClasses = temporaryFolder()
        try FileManager.default.createDirectory(atPath: noClasses + "/train", withIntermediateDirectories: true)
        #expect(
            message { _ = try ImageFolder(directory: noClasses) }?.hasPrefix(
                "\(noClasses)/train holds no class folders") == true)
        let empty = try Self.folder(["train": ["a": ["1.png=grey8.png"], "b": []]])
        #expect(
            message { _ = try ImageFolder(directory: empty) }
                == "\(empty)/train/b is an empty class folder; add the class's images or remove the folder "
                + "(from every split)")
        // Found before any file is read, in any split, even when every class is empty.
        let allEmpty = try Self.folder(["train": ["a": [], "b": []]])
        #expect(
            message { _ = try ImageFolder(directory: allEmpty) }?.hasPrefix("\(allEmpty)/train/a is an empty") == true)
        let emptyTest = try Self.folder(["train": ["a": ["1.png=grey8.png"]], "test": ["a": []]])
        #expect(
            message { _ = try ImageFolder(directory: emptyTest) }?.hasPrefix("\(emptyTest)/test/a is an empty") == true)
        let loose = try Self.folder(["train": ["a": ["1.png=grey8.png"], "": ["stray.png=grey8.png"]]])
        #expect(
            message { _ = try ImageFolder(directory: loose) }
                == "\(loose)/train/stray.png is not inside a class folder; move it into \(loose)/train/<class name>/")
        let differ = try Self.folder([
            "train": ["cat": ["1.png=grey8.png"], "dog": ["2.png=grey8.png"]],
            "validation": ["cat": ["3.png=grey8.png"], "dog": ["4.png=grey8.png"]],
            "test": ["cat": ["5.png=grey8.png"], "bird": ["6.png=grey8.png"], "eel": ["7.png=grey8.png"]],
        ])
        #expect(
            message { _ = try ImageFolder(directory: differ) }
                == "the class folders of \(differ)/test differ from those of train/: missing dog; extra bird, eel; "
                + "every split needs the same class folders")
        #expect(
            message { _ = try ImageFolder(directory: differ, options: ImageFolderOptions(channels: 2)) }?.contains(
                "must be 1 (grey) or 3 (RGB), not 2") == true)
    }

    @Test(arguments: [
        (
            "x.gif", "gif.png",
            "has the unsupported extension .gif; image folders hold PNG (.png) and JPEG (.jpg, .jpeg) files"
        ),
        ("x.png", "text.png", "not a PNG or JPEG file"), ("x.png", "truncated.png", "truncated"),
        ("x.jpg", "truncated.jpg", "truncated"), ("x.jpg", "cmyk.jpg", "unsupported colour space (CMYK)"),
        ("x.png", "empty.png", "the file is empty"), ("notes", "text.png", "has no file extension"),
    ])
    func aBadFileIsAnErrorNamingItUnlessSkipped(bad: (String, String, String)) throws {
        let (name, fixture, words) = bad
        let root = try Self.folder([
            "train": ["a": ["1.png=grey8.png", "\(name)=\(fixture)"], "b": ["2.png=grey8.png"]]
        ])
        let error = try #require(message { _ = try ImageFolder(directory: root) })
        #expect(error.hasPrefix("\(root)/train/a/\(name): ") && error.contains(words), "\(error)")
        #expect(error.hasSuffix("set data.skip_bad_files: true to skip and count unreadable files"))
        let skipping = try ImageFolder(directory: root, options: ImageFolderOptions(skipBadFiles: true))
        #expect(skipping.train.count == 2)
        #expect(skipping.skippedFiles.map(\.path) == ["\(root)/train/a/\(name)"])
        #expect(skipping.skippedFiles.first?.reason.contains(words) == true)
    }

    @Test func aClassWhoseEveryFileIsSkippedIsAnError() throws {
        let root = try Self.folder(["train": ["a": ["1.png=grey8.png"], "b": ["2.png=text.png", "3.png=empty.png"]]])
        #expect(
            message { _ = try ImageFolder(directory: root, options: ImageFolderOptions(skipBadFiles: true)) }
                == "\(root)/train/b has no readable images: all 2 were skipped as bad files")
    }

    /// Damage the header check cannot see (a bad CRC inside a complete-looking PNG) is found
    /// when that sample is decoded, and only then: other samples load, as on a rank whose shard
    /// does not hold the file.
    @Test func damageFoundWhileDecodingIsThrownThroughTheLoader() throws {
        let root = try Self.folder(["train": ["a": ["1.png=rgb8.png", "2.png=badcrc.png"], "b": ["3.png=rgb8.png"]]])
        let folder = try ImageFolder(directory: root)
        let data = folder.train
        #expect(data.count == 3)
        #expect(try data.loadBatch([0, 2]).count == 2)
        let bad = "\(root)/train/a/2.png"
        let loader = BatchLoader(dataset: data, indices: [2, 0, 1], batchSize: 2, prefetch: true)
        #expect(try loader.nextBatch()?.count == 2)
        let error = message { _ = try loader.nextBatch() }
        #expect(error?.hasPrefix("\(bad): corrupt PNG data (libpng: ") == true, "\(error ?? "no error")")
        #expect(error?.hasSuffix("set data.skip_bad_files: true to skip and count unreadable files") == true)
    }

    @Test func skippingDropsAFileFoundBadWhileDecodingFromItsBatchOnce() throws {
        let root = try Self.folder(["train": ["a": ["1.png=rgb8.png", "2.png=badcrc.png"], "b": ["3.png=rgba8.png"]]])
        let data = try ImageFolder(directory: root, options: ImageFolderOptions(skipBadFiles: true)).train
        for _ in 0..<2 {  // two epochs: the file is left out both times but listed once
            let batch = try data.loadBatch([0, 1, 2])
            #expect(batch.count == 2 && batch.inputs.shape == [2, 3, 5, 7])
            #expect(batch.targets.int32Pointer[0] == 0 && batch.targets.int32Pointer[1] == 1)
            #expect(
                Array(UnsafeBufferPointer(start: batch.inputs.ptr + 105, count: 105)) == (try Self.pixels("rgba8.png")))
        }
        #expect(data.skipped.all.map(\.path) == ["\(root)/train/a/2.png"])
        #expect(data.skipped.all.first?.reason.hasPrefix("corrupt PNG data") == true)
        #expect(
            message { _ = try data.loadBatch([1]) }?.hasPrefix("every image of a batch was skipped as unreadable")
                == true)
    }

    /// With the memory cache a sample decoded once is served without its file; without it the
    /// file is read every time. Many threads at once get the same pixels.
    @Test func theMemoryCacheServesDecodedImagesToManyThreads() throws {
        let root = try Self.folder(["train": ["a": ["1.png=rgb8.png", "2.jpg=rgb.jpg"], "b": ["3.png=palette8.png"]]])
        let cached = try ImageFolder(directory: root, options: ImageFolderOptions(cache: .memory)).train
        let plain = try ImageFolder(directory: root).train
        let first = try cached.loadBatch([0, 1, 2])
        let expected = Array(UnsafeBufferPointer(start: first.inputs.ptr, count: 315))
        nonisolated(unsafe) var results = [[Float]](repeating: [], count: 16)
        DispatchQueue.concurrentPerform(iterations: 16) { k in
            let b = try! cached.loadBatch(ArraySlice([2, 1, 0].shuffled()))
            results[k] = Array(UnsafeBufferPointer(start: b.inputs.ptr, count: 315)).sorted()
        }
        #expect(results.allSatisfy { $0 == expected.sorted() })
        try FileManager.default.removeItem(atPath: root + "/train/a/2.jpg")
        #expect(try cached.loadBatch([1]).count == 1)
        #expect(
            message { _ = try plain.loadBatch([1]) }
                == "\(root)/train/a/2.jpg: cannot be opened: No such file or directory; "
                + "repair or remove the file, or set data.skip_bad_files: true to skip and count unreadable files")
    }

    @Test func splitsOffAValidationFractionFromEveryClass() throws {
        let names = (0..<10).map { "\($0).png=grey8.png" }
        let root = try Self.folder(["train": ["a": names, "b": Array(names.prefix(5))]])
        let data = try ImageFolder(directory: root).train
        let (train, validation) = try data.split(validationFraction: 0.2)
        let short = { (d: ImageFolderDataset) in d.files.map { $0.dropFirst(root.count + 7) } }
        #expect(short(validation) == ["a/4.png", "a/9.png", "b/4.png"])
        #expect(train.count == 12 && validation.count == 3 && validation.classNames == ["a", "b"])
        #expect(train.labels.filter { $0 == 1 }.count == 4)
        #expect(message { _ = try data.split(validationFraction: 1) }?.contains("is outside (0, 1)") == true)
        #expect(
            message { _ = try data.split(validationFraction: 0.01) }?.contains("leaves no validation images") == true)
    }
}
