import Dispatch
import Foundation
import TensorCore

/// A folder of images sorted into one folder per class, as torchvision's `ImageFolder` reads:
/// `DIR/train/<class>/*`, and optionally `DIR/validation/<class>/*` and `DIR/test/<class>/*`.
///
/// Class names are the sorted folder names of `train/` (their index is the label); files are
/// sorted by path within each class. Scanning lists the files and reads each one's header (and
/// last bytes) only, which finds files that are not images, in another format, truncated, or
/// of the wrong size before training starts; pixels are decoded later, by the batches.
public final class ImageFolder: Sendable {
    /// The splits a folder may hold, by their folder names.
    public enum Split: String, CaseIterable, Sendable { case train, validation, test }

    public let directory: String
    public let classNames: [String]
    public let options: ImageFolderOptions
    public let train: ImageFolderDataset
    /// Nil when the folder has no `validation/` (split one off with `ImageFolderDataset.split`).
    public let validation: ImageFolderDataset?
    public let test: ImageFolderDataset?
    /// Files left out as unreadable (with `skipBadFiles`): those the scan found, then those
    /// found while decoding.
    public let skipped: SkippedImageLog

    /// One sample's shape, (C, H, W).
    public var inputShape: Shape { train.inputShape }
    /// The files skipped so far, each with its reason, for the run's log.
    public var skippedFiles: [SkippedImageLog.Entry] { skipped.all }

    /// Scans `directory`.
    /// - Parameters:
    ///   - directory: the folder holding `train/` (and optionally `validation/` and `test/`).
    ///   - options: size, channels, cache and what to do with unreadable files.
    /// - Throws: `DatasetError` naming the folder or file and what is wrong: a missing `train/`,
    ///   an empty class folder, class folders that differ between splits, a file that is not a
    ///   PNG or JPEG image or is damaged, an image of another size when no size is set.
    public init(directory: String, options: ImageFolderOptions = ImageFolderOptions()) throws {
        try options.validate()
        let root = directory.hasSuffix("/") && directory.count > 1 ? String(directory.dropLast()) : directory
        guard Self.isFolder(root) else {
            throw DatasetError(
                "image folder \(root) does not exist or is not a folder; set data.directory to a folder holding "
                    + "train/<class>/ with the images of each class")
        }
        let trainFolder = root + "/train"
        guard Self.isFolder(trainFolder) else {
            throw DatasetError(
                "image folder \(root) has no train/ folder; expected \(root)/train/<class>/<image files>, "
                    + "with optional validation/ and test/ folders laid out the same way")
        }
        let classNames = try Self.classFolders(in: trainFolder)
        guard !classNames.isEmpty else {
            throw DatasetError(
                "\(trainFolder) holds no class folders (so no images); put each class's images in "
                    + "\(trainFolder)/<class name>/")
        }
        var listed: [(split: Split, files: [[String]])] = []
        for split in Split.allCases where split == .train || Self.isFolder(root + "/" + split.rawValue) {
            let folder = root + "/" + split.rawValue
            if split != .train { try Self.requireSameClasses(folder, try Self.classFolders(in: folder), classNames) }
            let files = try classNames.map { try Self.imageFiles(in: folder + "/" + $0) }
            if let empty = files.firstIndex(where: \.isEmpty) {
                throw DatasetError(
                    "\(folder)/\(classNames[empty]) is an empty class folder; add the class's images or remove the "
                        + "folder (from every split)")
            }
            listed.append((split, files))
        }
        let skipped = SkippedImageLog()
        let checked = try Self.check(listed.flatMap { $0.files.flatMap { $0 } }, options: options, skipped: skipped)
        let channels = options.channels ?? checked.reference.colorChannels
        let size = options.imageSize ?? ImageSize(height: checked.reference.height, width: checked.reference.width)
        var datasets: [Split: ImageFolderDataset] = [:]
        for (split, files) in listed {
            var paths: [String] = [], labels: [Int32] = []
            for (label, classFiles) in files.enumerated() {
                let good = classFiles.filter { checked.good.contains($0) }
                if good.isEmpty {
                    let folder = root + "/" + split.rawValue + "/" + classNames[label]
                    throw DatasetError(
                        "\(folder) has no readable images: all \(classFiles.count) were skipped as bad files")
                }
                paths += good
                labels += [Int32](repeating: Int32(label), count: good.count)
            }
            datasets[split] = ImageFolderDataset(
                files: paths, labels: labels, classNames: classNames, size: size, channels: channels,
                options: options, skipped: skipped)
        }
        (self.directory, self.classNames, self.options, self.skipped) = (root, classNames, options, skipped)
        (train, validation, test) = (datasets[.train]!, datasets[.validation], datasets[.test])
    }

    /// The files that pass the header check, and the first image's header (which sets the size
    /// and channels when the options leave them open).
    private static func check(_ files: [String], options: ImageFolderOptions, skipped: SkippedImageLog) throws
        -> (good: Set<String>, reference: ImageHeader)
    {
        let headers = probe(files)
        var good = Set<String>(), reference: (path: String, header: ImageHeader)?
        for (path, result) in zip(files, headers) {
            var problem: String?
            switch result {
            case .failure(let failure): problem = failure.reason
            case .success(let header):
                if let reference, options.imageSize == nil,
                    header.width != reference.header.width || header.height != reference.header.height
                {
                    problem =
                        "is \(header.sizeText) (height x width) but the first image, \(reference.path), is "
                        + "\(reference.header.sizeText); set data.image_size: [H, W] to resize every image to one size"
                }
                if problem == nil && reference == nil { reference = (path, header) }
            }
            guard let problem else { good.insert(path); continue }
            guard options.skipBadFiles else {
                throw DatasetError("\(path): \(problem); \(ImageFolderDataset.badFileAdvice)")
            }
            skipped.add(path, reason: problem)
        }
        guard let reference else {
            throw DatasetError(
                "no readable images among the \(files.count) files of the image folder; see the skipped files")
        }
        return (good, reference.header)
    }

    /// Every file's header or the reason it has none, read on all cores (a header is a few reads).
    private static func probe(_ files: [String]) -> [Result<ImageHeader, ProbeFailure>] {
        var results = [Result<ImageHeader, ProbeFailure>](repeating: .failure(ProbeFailure("")), count: files.count)
        results.withUnsafeMutableBufferPointer { out in
            nonisolated(unsafe) let out = out
            DispatchQueue.concurrentPerform(iterations: files.count) { i in
                let path = files[i], ext = (path as NSString).pathExtension.lowercased()
                guard ImageDecoder.fileExtensions.contains(ext) else {
                    out[i] = .failure(
                        ProbeFailure(
                            (ext.isEmpty ? "has no file extension" : "has the unsupported extension .\(ext)")
                                + "; image folders hold PNG (.png) and JPEG (.jpg, .jpeg) files"))
                    return
                }
                do { out[i] = .success(try ImageDecoder.header(of: path)) } catch let error as DatasetError {
                    out[i] = .failure(ProbeFailure(ImageFolderDataset.reason(error, path: path)))
                } catch {
                    out[i] = .failure(ProbeFailure("\(error)"))
                }
            }
        }
        return results
    }

    private struct ProbeFailure: Error {
        let reason: String
        init(_ reason: String) { self.reason = reason }
    }

    /// The class folders of a split folder, sorted; a file beside them is an error.
    private static func classFolders(in folder: String) throws -> [String] {
        try visibleEntries(of: folder).map { name in
            guard isFolder(folder + "/" + name) else {
                throw DatasetError(
                    "\(folder)/\(name) is not inside a class folder; move it into \(folder)/<class name>/")
            }
            return name
        }
    }

    /// The files under a class folder (sub-folders included), sorted by path.
    private static func imageFiles(in folder: String) throws -> [String] {
        var files: [String] = []
        for name in try visibleEntries(of: folder) {
            let path = folder + "/" + name
            if isFolder(path) { files += try imageFiles(in: path) } else { files.append(path) }
        }
        return files
    }

    /// The names in `folder` that do not start with a dot, sorted.
    private static func visibleEntries(of folder: String) throws -> [String] {
        guard let dir = opendir(folder) else {
            throw DatasetError("cannot list \(folder): \(String(cString: strerror(errno)))")
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            if !name.hasPrefix(".") { names.append(name) }
        }
        return names.sorted()
    }

    private static func requireSameClasses(_ folder: String, _ classes: [String], _ trainClasses: [String]) throws {
        let missing = trainClasses.filter { !classes.contains($0) },
            extra = classes.filter { !trainClasses.contains($0) }
        guard missing.isEmpty && extra.isEmpty else {
            let parts =
                (missing.isEmpty ? [] : ["missing " + missing.joined(separator: ", ")])
                + (extra.isEmpty ? [] : ["extra " + extra.joined(separator: ", ")])
            throw DatasetError(
                "the class folders of \(folder) differ from those of train/: \(parts.joined(separator: "; ")); "
                    + "every split needs the same class folders")
        }
    }

    private static func isFolder(_ path: String) -> Bool {
        var folder: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &folder) && folder.boolValue
    }
}
