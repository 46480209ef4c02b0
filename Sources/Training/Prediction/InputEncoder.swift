import Datasets
import Foundation
import TensorCore

/// Turns new inputs into the model's inputs exactly as the run's data turned its samples:
/// images decoded, converted to the run's channels, resized to its size and normalised as it
/// was; table rows encoded with the training split's statistics; arrays normalised per channel
/// when the run was.
public struct InputEncoder {
    /// One sample's shape as the model reads it.
    public let sampleShape: [Int]
    public let inputType: DType
    /// The run's data, for messages.
    let dataName: String
    /// (x - mean) / std on pixels in [0, 1], when the dataset normalised them itself (Fashion-MNIST).
    let pixelStandardization: (mean: Float, std: Float)?
    /// The per-channel normalisation measured on the training split (`data.normalize: auto`, image folders).
    let normalization: ChannelNormalization?
    let table: TableStatistics?
    /// What a missing table cell means.
    let missing: TableDataset.MissingValues
    /// The token ids a token model knows (its embedding's rows), when the data says.
    let tokenCount: Int?

    /// - Parameter run: the trained run.
    public init(run: TrainedRun) {
        sampleShape = run.data.train.inputShape.dims
        inputType = run.data.train.inputType
        dataName = run.config.data.name.rawValue
        let standardized = run.config.data.name == .fashion_mnist && run.config.data.normalize == .on
        pixelStandardization = standardized ? (FashionMNIST.mean, FashionMNIST.std) : nil
        normalization = run.data.normalization
        table = run.data.tableStatistics
        missing = run.config.data.missing
        tokenCount = (run.data.train as? TensorDataset)?.tokenCount
    }

    /// Whether the model reads images: float (C, H, W) samples with 1 or 3 channels.
    public var readsImages: Bool {
        inputType == .float32 && sampleShape.count == 3 && [1, 3].contains(sampleShape[0]) && table == nil
    }

    /// The inputs as one batch (N, ...).
    /// - Parameter inputs: the samples, all of a kind the model reads.
    /// - Throws: `PredictionMistake` naming the input that cannot be read or does not fit.
    public func batch(_ inputs: ArraySlice<PredictionInput>) throws -> NDArray {
        let width = sampleShape.reduce(1, *)
        let x = NDArray(shape: Shape([inputs.count] + sampleShape), dtype: inputType, zeroed: false)
        for (k, input) in inputs.enumerated() {
            switch input.source {
            case .image(let path):
                let pixels = try image(path)
                pixels.withUnsafeBufferPointer { (x.ptr + k * width).update(from: $0.baseAddress!, count: width) }
            case .tableRow(let csv, let row):
                let features = try tableRow(csv, row, name: input.name)
                (x.ptr + k * width).update(from: features.ptr, count: width)
            case .array(let array, let sample):
                try copy(array, sample: sample, name: input.name, to: x, at: k)
            }
        }
        return x
    }

    /// An image file as the model's input: (C, H, W) values.
    func image(_ path: String) throws -> [Float] {
        guard readsImages else {
            throw PredictionMistake(
                "\(path) is an image, but the run's model reads \(reads); give \(gives)")
        }
        let (channels, height, width) = (sampleShape[0], sampleShape[1], sampleShape[2])
        var image = try PredictionInput.readable { try ImageDecoder.decode(path, channels: channels) }
        if image.height != height || image.width != width {
            image = ImageResize.resize(image, height: height, width: width)
        }
        if let (mean, std) = pixelStandardization {
            // As the IDX bytes were: the 8-bit level, scaled and shifted in the same float steps.
            let scale = 1 / (255 * std), shift = -mean / std
            for i in image.pixels.indices { image.pixels[i] = (image.pixels[i] * 255).rounded() * scale + shift }
        }
        return normalization.map { $0.apply(to: image).pixels } ?? image.pixels
    }

    /// A table row's encoded features.
    func tableRow(_ csv: CSVTable, _ row: Int, name: String) throws -> NDArray {
        guard let table else {
            throw PredictionMistake("\(name) is a CSV row, but the run's model reads \(reads); give \(gives)")
        }
        if missing != .mean {
            for feature in table.features {
                guard let c = csv.columns.firstIndex(of: feature.name), TableDataset.isMissing(csv.rows[row][c])
                else { continue }
                throw PredictionMistake(
                    "\(name), column '\(feature.name)': the value is missing, and the run was trained with "
                        + "data.missing \(missing.rawValue); fill it in, or predict with --set data.missing=mean")
            }
        }
        return try PredictionInput.readable { try TableDataset.features(of: csv, rows: [row], statistics: table) }
    }

    /// Copies a NumPy sample into row `k` of `x`, normalised as the run's data was: an image's
    /// pixels in [0, 1] take the dataset's standardisation and the measured per-channel one.
    func copy(_ array: NumpyArray, sample: Int?, name: String, to x: NDArray, at k: Int) throws {
        let width = sampleShape.reduce(1, *), start = (sample ?? 0) * width
        if inputType == .int32 {
            guard !array.elementType.isFloat else {
                throw PredictionMistake(
                    "\(name) holds \(array.elementType.rawValue) values, but the model reads token ids; "
                        + "save integer ids (np.int32 or np.int64)")
            }
            let ids = x.int32Pointer + k * width, known = tokenCount ?? Int(Int32.max)
            for position in 0..<width {
                let id = array.integer(at: start + position)
                guard id >= 0 && id < known else {
                    throw PredictionMistake(
                        "\(name) holds token id \(id) at position \(position), but the model knows ids 0 to "
                            + "\(known - 1); give ids of the run's vocabulary")
                }
                ids[position] = Int32(id)
            }
            return
        }
        let out = x.ptr + k * width
        array.convert(start..<(start + width), to: out)
        if let bad = (0..<width).first(where: { !out[$0].isFinite }) {
            throw PredictionMistake("\(name) holds \(out[bad]) at value \(bad); the inputs must be finite numbers")
        }
        if let (mean, std) = pixelStandardization {
            // Pixels in [0, 1] as the images are, in the IDX bytes' float steps without their 8-bit rounding.
            let scale = 1 / (255 * std), shift = -mean / std
            for i in 0..<width { out[i] = out[i] * 255 * scale + shift }
        }
        normalization?.apply(to: out, plane: width / sampleShape[0])
    }

    /// What the model reads, in words.
    var reads: String {
        if table != nil { return "table rows of \(table!.features.count) feature columns (data.name csv)" }
        if readsImages { return "images (data.name \(dataName))" }
        return "arrays of shape (\(sampleShape.map(String.init).joined(separator: ", "))) (data.name \(dataName))"
    }

    /// What to give it instead.
    var gives: String {
        if let table {
            return "a CSV file with the columns " + table.features.map { "'\($0.name)'" }.joined(separator: ", ")
        }
        if readsImages { return "image files (.png, .jpg, .jpeg), a folder of them, or .npy arrays" }
        return ".npy arrays of that shape"
    }
}
