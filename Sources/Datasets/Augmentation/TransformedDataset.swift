import TensorCore

/// Another dataset's samples for one epoch, each augmented (when given) and then normalised
/// (when given); evaluation passes no augmentation, so it only normalises.
///
/// A sample's result depends only on (seed, epoch, index), never on the batch it is gathered
/// in or the thread that gathers it, so any split of the indices among ranks and batches sees
/// the same images. Samples are transformed one after another on the calling thread (the
/// loader's prefetch queue).
public final class TransformedDataset: Dataset {
    /// The dataset whose samples are transformed.
    public let base: any Dataset
    /// The random transforms, or nil for none.
    public let augmentation: ImageAugmentation?
    /// The per-channel normalisation, or nil for none.
    public let normalization: ChannelNormalization?
    /// The run's seed.
    public let seed: UInt64
    /// The epoch whose random draws are used.
    public let epoch: Int

    /// - Parameters:
    ///   - base: float32 samples; (C, H, W) when augmenting, channel first when normalising.
    ///   - augmentation: random transforms, or nil.
    ///   - normalization: per-channel mean and std, or nil.
    ///   - seed: the run's seed.
    ///   - epoch: the epoch (0-based).
    public init(
        _ base: any Dataset, augmentation: ImageAugmentation?, normalization: ChannelNormalization?, seed: UInt64,
        epoch: Int
    ) {
        if let augmentation {
            let problems = augmentation.problems(keyPath: "augment")
            precondition(problems.isEmpty, problems.joined(separator: "; "))
            do { try augmentation.check(inputShape: base.inputShape, inputType: base.inputType) } catch {
                preconditionFailure("\(error)")
            }
        }
        if let normalization {
            let shape = base.inputShape
            precondition(
                base.inputType == .float32 && shape.rank >= 1 && shape[0] == normalization.channels,
                "normalisation of \(normalization.channels) channels needs float32 samples with that many "
                    + "channels first, but the samples are \(base.inputType) of shape \(shape)")
        }
        (self.base, self.augmentation, self.normalization) = (base, augmentation, normalization)
        (self.seed, self.epoch) = (seed, epoch)
    }

    public var count: Int { base.count }
    public var inputShape: Shape { base.inputShape }
    public var inputType: DType { base.inputType }
    public var classCount: Int { base.classCount }
    public var targetsPerSample: Int { base.targetsPerSample }
    public var scoresWholeSequences: Bool { base.scoresWholeSequences }

    /// The base dataset's batch with every sample transformed (into a new array).
    public func batch(_ indices: ArraySlice<Int>) -> Batch {
        let raw = base.batch(indices)
        let augmenting = augmentation.map { !$0.isIdentity } ?? false
        guard augmenting || normalization != nil else { return raw }
        let x = raw.inputs.copy(), per = inputShape.count
        for (row, index) in indices.enumerated() {
            let sample = x.ptr + row * per
            if let augmentation, augmenting {
                let image = PlanarImage(
                    channels: inputShape[0], height: inputShape[1], width: inputShape[2],
                    pixels: Array(UnsafeBufferPointer(start: sample, count: per)))
                let result = augmentation.apply(to: image, seed: seed, epoch: epoch, index: index)
                result.pixels.withUnsafeBufferPointer { sample.update(from: $0.baseAddress!, count: per) }
            }
            normalization?.apply(to: sample, plane: per / inputShape[0])
        }
        return Batch(inputs: x, targets: raw.targets)
    }
}
