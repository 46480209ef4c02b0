import Synchronization
import TensorCore

/// The images of one split of an image folder, decoded when a batch asks for them.
///
/// Only the files of the requested indices are decoded (on the loader's background thread),
/// so each rank decodes its own shard. A file that fails to decode (damage the scan's header
/// check could not see) is an error naming it, or with `skipBadFiles` it is left out of its
/// batch and listed in the folder's skipped files.
public final class ImageFolderDataset: Dataset, Sendable {
    /// The image files, in sample order.
    public let files: [String]
    /// The class index of every file.
    public let labels: [Int32]
    public let classNames: [String]
    /// Size of every sample after resizing.
    public let size: ImageSize
    /// Channels of every sample after conversion: 1 or 3.
    public let channels: Int
    public let options: ImageFolderOptions
    /// Files left out as unreadable, shared with the folder and its other splits.
    public let skipped: SkippedImageLog
    private let cache = Mutex<[Int: [Float]]>([:])
    private let bad = Mutex<Set<Int>>([])

    /// What a user can do about an unreadable file.
    static let badFileAdvice =
        "repair or remove the file, or set data.skip_bad_files: true to skip and count unreadable files"

    /// - Parameters:
    ///   - files: image paths, in sample order.
    ///   - labels: each file's class index into `classNames`.
    ///   - classNames: the class of every index.
    ///   - size: every sample's size; an image of another size is resized unless `options.imageSize`
    ///     is nil (then every image must already have this size).
    ///   - channels: 1 or 3.
    ///   - options: cache and skipping.
    ///   - skipped: where skipped files are listed.
    init(
        files: [String], labels: [Int32], classNames: [String], size: ImageSize, channels: Int,
        options: ImageFolderOptions, skipped: SkippedImageLog
    ) {
        precondition(files.count == labels.count, "one label per file")
        (self.files, self.labels, self.classNames) = (files, labels, classNames)
        (self.size, self.channels, self.options, self.skipped) = (size, channels, options, skipped)
    }

    public var count: Int { files.count }
    public var inputShape: Shape { [channels, size.height, size.width] }
    public var inputType: DType { .float32 }
    public var classCount: Int { classNames.count }

    /// The image at `index` as (C, H, W) floats in [0, 1], converted and resized.
    /// - Parameters:
    ///   - index: a sample in 0..<count.
    /// - Throws: `DatasetError` naming the file when it cannot be decoded.
    public func sample(_ index: Int) throws -> [Float] {
        if options.cache == .memory, let hit = cache.withLock({ $0[index] }) { return hit }
        var image = try ImageDecoder.decode(files[index], channels: channels)
        if image.height != size.height || image.width != size.width {
            guard options.imageSize != nil else {
                throw DatasetError(
                    "\(files[index]): is \(image.height)x\(image.width) but the folder's images are \(size) "
                        + "(the file changed after the folder was scanned)")
            }
            image = ImageResize.resize(image, height: size.height, width: size.width)
        }
        if options.cache == .memory { cache.withLock { $0[index] = image.pixels } }
        return image.pixels
    }

    public func loadBatch(_ indices: ArraySlice<Int>) throws -> Batch {
        let rowCount = inputShape.count
        var x = NDArray(shape: Shape([indices.count] + inputShape.dims), zeroed: false)
        var kept: [Int32] = []
        for i in indices {
            precondition(i >= 0 && i < count, "sample \(i) is outside a dataset of \(count)")
            if options.skipBadFiles && bad.withLock({ $0.contains(i) }) { continue }
            do {
                let pixels = try sample(i)
                pixels.withUnsafeBufferPointer {
                    (x.ptr + kept.count * rowCount).update(from: $0.baseAddress!, count: rowCount)
                }
                kept.append(labels[i])
            } catch let error as DatasetError {
                guard options.skipBadFiles else { throw DatasetError("\(error); \(Self.badFileAdvice)") }
                if bad.withLock({ $0.insert(i).inserted }) {
                    skipped.add(files[i], reason: Self.reason(error, path: files[i]))
                }
            }
        }
        if kept.isEmpty && !indices.isEmpty {
            let names = indices.map { files[$0] }.joined(separator: ", ")
            throw DatasetError(
                "every image of a batch was skipped as unreadable (\(names)); repair or remove those files")
        }
        if kept.count < indices.count {
            let fewer = NDArray(shape: Shape([kept.count] + inputShape.dims), zeroed: false)
            fewer.ptr.update(from: x.ptr, count: kept.count * rowCount)
            x = fewer
        }
        return Batch(inputs: x, targets: NDArray(indices: kept, shape: [kept.count]))
    }

    public func batch(_ indices: ArraySlice<Int>) -> Batch {
        do { return try loadBatch(indices) } catch { DatasetFailure.report(error) }
    }

    /// The samples at `positions`, in that order, as a dataset of their own (with its own cache).
    /// - Parameters:
    ///   - positions: indices into this dataset.
    public func subset(_ positions: [Int]) -> ImageFolderDataset {
        ImageFolderDataset(
            files: positions.map { files[$0] }, labels: positions.map { labels[$0] }, classNames: classNames,
            size: size, channels: channels, options: options, skipped: skipped)
    }

    /// Splits off a validation part, for a folder without `validation/`: from every class the
    /// same fraction of its images (rounded), spread evenly over the class's files in name
    /// order, so both parts hold every class and no seed is needed.
    /// - Parameters:
    ///   - validationFraction: in (0, 1).
    /// - Throws: `DatasetError` when the fraction is out of range or leaves a part empty.
    public func split(validationFraction: Double) throws -> (train: ImageFolderDataset, validation: ImageFolderDataset)
    {
        guard validationFraction > 0 && validationFraction < 1 else {
            throw DatasetError(
                "a validation fraction of \(validationFraction) is outside (0, 1); set data.validation_fraction "
                    + "between 0 and 1, e.g. 0.1")
        }
        var byClass = [[Int]](repeating: [], count: classCount)
        for (i, label) in labels.enumerated() { byClass[Int(label)].append(i) }
        var train: [Int] = [], validation: [Int] = []
        for members in byClass where !members.isEmpty {
            let n = members.count
            let take = min(Int((Double(n) * validationFraction).rounded()), n - 1)
            for (k, i) in members.enumerated() {
                // Position k goes to validation when the running share k·take/n crosses an integer.
                if (k + 1) * take / n > k * take / n { validation.append(i) } else { train.append(i) }
            }
        }
        guard !validation.isEmpty else {
            throw DatasetError(
                "a validation fraction of \(validationFraction) of \(count) images leaves no validation images; "
                    + "raise data.validation_fraction or add a validation/ folder")
        }
        return (subset(train.sorted()), subset(validation.sorted()))
    }

    /// The part of a decoder's message after the file's path.
    static func reason(_ error: DatasetError, path: String) -> String {
        let text = error.description
        return text.hasPrefix(path + ": ") ? String(text.dropFirst(path.count + 2)) : text
    }
}
