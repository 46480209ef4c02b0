import Datasets
import Foundation

/// One sample to predict, as the command line named it.
public struct PredictionInput: @unchecked Sendable {
    /// Where the sample's values come from.
    public enum Source {
        /// A PNG or JPEG file.
        case image(String)
        /// One row of a CSV table (an index into `table.rows`).
        case tableRow(CSVTable, Int)
        /// A NumPy array holding one sample (nil) or a batch whose `sample`-th row is this one.
        case array(NumpyArray, sample: Int?)
    }

    /// How results name it: the file, `FILE:LINE` for a table row, `FILE[i]` for a batch's sample.
    public let name: String
    public let source: Source

    /// The extensions `tandem predict` reads, for messages.
    static let readable = "images (.png, .jpg, .jpeg, or a folder of them), CSV rows (.csv) or NumPy arrays (.npy)"

    /// The samples of `paths`, in order: a folder gives its images (with those of its subfolders)
    /// in name order, a CSV file each of its rows, a `.npy` file its sample or each of its batch.
    /// - Parameters:
    ///   - paths: files and folders as the command line gives them.
    ///   - sampleShape: one sample's shape as the model reads it, which tells a batch from a single sample.
    /// - Throws: `PredictionMistake` for a missing path, an unknown file type, an empty folder or table,
    ///   or an array whose shape is neither one sample's nor a batch's.
    public static func expand(_ paths: [String], sampleShape: [Int]) throws -> [PredictionInput] {
        var inputs: [PredictionInput] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw PredictionMistake("\(path): no such file or folder; give \(readable)")
            }
            if isDirectory.boolValue {
                let images = try images(in: path)
                guard !images.isEmpty else {
                    throw PredictionMistake(
                        "\(path) is a folder without images (.png, .jpg, .jpeg); give a folder of images, or the files")
                }
                inputs += images.map { PredictionInput(name: $0, source: .image($0)) }
                continue
            }
            let ext = (path as NSString).pathExtension.lowercased()
            if ImageDecoder.fileExtensions.contains(ext) {
                inputs.append(PredictionInput(name: path, source: .image(path)))
            } else if ext == "csv" {
                let table = try readable { try CSVTable(path: path) }
                guard !table.rows.isEmpty else {
                    throw PredictionMistake("\(path) has a header but no rows; give a CSV file with rows to predict")
                }
                inputs += table.rows.indices.map {
                    PredictionInput(name: "\(path):\(table.lines[$0])", source: .tableRow(table, $0))
                }
            } else if ext == "npy" {
                inputs += try arrays(path, sampleShape: sampleShape)
            } else {
                let what = ext.isEmpty ? "a file without an extension" : "a .\(ext) file"
                throw PredictionMistake("\(path): unknown file type (\(what)); tandem predict reads \(readable)")
            }
        }
        return inputs
    }

    /// `body`'s value; a file it cannot read is the user's mistake.
    static func readable<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as DatasetError { throw PredictionMistake(error.description) }
    }

    /// The image files under `folder`, by path.
    static func images(in folder: String) throws -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: folder) else {
            throw PredictionMistake("\(folder): the folder cannot be read; check its permissions")
        }
        var found: [String] = []
        while let relative = walker.nextObject() as? String {
            let ext = (relative as NSString).pathExtension.lowercased()
            if ImageDecoder.fileExtensions.contains(ext) { found.append(relative) }
        }
        let base = folder.hasSuffix("/") ? folder : folder + "/"
        return found.sorted().map { base + $0 }
    }

    /// The samples of a `.npy` file: the whole array when its shape is one sample's, each row
    /// when it is a batch of them.
    static func arrays(_ path: String, sampleShape: [Int]) throws -> [PredictionInput] {
        let array = try readable { try NumpyArrayFile.open(path) }
        if array.shape == sampleShape { return [PredictionInput(name: path, source: .array(array, sample: nil))] }
        if array.shape.count == sampleShape.count + 1 && Array(array.shape.dropFirst()) == sampleShape {
            return (0..<array.shape[0]).map {
                PredictionInput(name: "\(path)[\($0)]", source: .array(array, sample: $0))
            }
        }
        let one = sampleShape.map(String.init).joined(separator: ", ")
        throw PredictionMistake(
            "\(path) has shape (\(array.shape.map(String.init).joined(separator: ", "))) but the model reads samples "
                + "of shape (\(one)); give one sample of shape (\(one)) or a batch of shape (N, \(one))")
    }
}
