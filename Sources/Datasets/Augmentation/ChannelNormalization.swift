import TensorCore

/// Per-channel standardisation, (x - mean[c]) / std[c] (torchvision `Normalize(mean, std)`),
/// with the statistics given or measured on a training split.
///
/// Channels are a sample's first axis: C of (C, H, W), or each feature of a flat (F) sample.
public struct ChannelNormalization: Codable, Equatable, Sendable {
    /// Per-channel means.
    public let mean: [Float]
    /// Per-channel standard deviations, all positive.
    public let std: [Float]

    /// - Parameters:
    ///   - mean: one value per channel.
    ///   - std: one positive value per channel.
    /// - Throws: `DatasetError` when the counts differ, a value is not finite or a std is not positive.
    public init(mean: [Float], std: [Float]) throws {
        guard !mean.isEmpty, mean.count == std.count else {
            throw DatasetError(
                "normalisation needs one mean and one std per channel, but has \(mean.count) means and "
                    + "\(std.count) stds; give the same number of each")
        }
        if let c = mean.indices.first(where: { !mean[$0].isFinite }) {
            throw DatasetError("normalisation: channel \(c) has mean \(mean[c]); give a finite mean")
        }
        if let c = std.indices.first(where: { !(std[$0] > 0) || !std[$0].isFinite }) {
            throw DatasetError(
                "cannot normalise channel \(c): its standard deviation is \(std[c]), and dividing by it is "
                    + "undefined; give a positive, finite std")
        }
        (self.mean, self.std) = (mean, std)
    }

    /// Reads `mean` and `std`, refusing the values `init(mean:std:)` refuses.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(mean: c.decode([Float].self, forKey: .mean), std: c.decode([Float].self, forKey: .std))
    }

    /// Number of channels.
    public var channels: Int { mean.count }

    /// The mean and population standard deviation of each channel over every sample of `dataset`.
    ///
    /// Samples are read in index order and each one's statistics merged into the total in that
    /// order (Chan et al.'s pairwise update, in Double), so the result depends on the data alone:
    /// not on threads, nor on the batch size.
    /// - Parameters:
    ///   - dataset: the training split; float32 samples whose first axis is the channel.
    ///   - batchSize: samples read at a time.
    /// - Throws: `DatasetError` for an empty dataset, non-float inputs, a non-finite value (naming
    ///   the sample) or a channel whose values are all equal (std 0, naming the channel).
    public static func measure(on dataset: any Dataset, batchSize: Int = 256) throws -> ChannelNormalization {
        precondition(batchSize >= 1, "batch size must be at least 1")
        let shape = dataset.inputShape
        guard dataset.inputType == .float32, shape.rank >= 1, shape.count > 0 else {
            throw DatasetError(
                "per-channel normalisation needs float32 samples with the channel first, but the samples are "
                    + "\(dataset.inputType) of shape \(shape); normalise only image or feature data")
        }
        guard dataset.count > 0 else {
            throw DatasetError("cannot measure the per-channel mean and std of an empty training split")
        }
        let channels = shape[0], plane = shape.count / channels
        var total = [RunningMoments](repeating: RunningMoments(), count: channels)
        for start in stride(from: 0, to: dataset.count, by: batchSize) {
            let indices = start..<min(start + batchSize, dataset.count)
            let batch = dataset.batch(ArraySlice(indices))
            let x = batch.inputs.ptr
            for (row, index) in indices.enumerated() {
                for c in 0..<channels {
                    let values = UnsafeBufferPointer(start: x + (row * channels + c) * plane, count: plane)
                    if let bad = values.firstIndex(where: { !$0.isFinite }) {
                        throw DatasetError(
                            "sample \(index) holds \(values[bad]) in channel \(c) (value \(bad) of the channel); "
                                + "the data must be finite: repair or remove that sample")
                    }
                    total[c].add(values)
                }
            }
        }
        var mean: [Float] = [], std: [Float] = []
        for (c, m) in total.enumerated() {
            let deviation = m.populationStd
            guard Float(deviation) > 0 else {
                throw DatasetError(
                    "cannot normalise channel \(c): every value of it over the \(dataset.count) training samples "
                        + "is \(Float(m.mean)), so its standard deviation is 0 and dividing by it is undefined; "
                        + "give mean and std explicitly, or drop the constant channel")
            }
            mean.append(Float(m.mean))
            std.append(Float(deviation))
        }
        return try ChannelNormalization(mean: mean, std: std)
    }

    /// Normalises one sample in place.
    /// - Parameters:
    ///   - values: the sample's `channels × plane` values, channel first.
    ///   - plane: values per channel.
    public func apply(to values: UnsafeMutablePointer<Float>, plane: Int) {
        for c in 0..<channels {
            let (m, s) = (mean[c], std[c])
            // Subtract, then divide (not multiply by 1/std), as torchvision's Normalize does.
            for i in (c * plane)..<((c + 1) * plane) { values[i] = (values[i] - m) / s }
        }
    }

    /// The image normalised.
    /// - Parameter image: (C, H, W) with C equal to `channels`.
    public func apply(to image: PlanarImage) -> PlanarImage {
        precondition(
            image.channels == channels, "normalisation of \(channels) channels given an image of \(image.channels)")
        var out = image
        out.pixels.withUnsafeMutableBufferPointer { apply(to: $0.baseAddress!, plane: image.planeSize) }
        return out
    }
}
