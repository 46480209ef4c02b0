import Datasets
import Foundation

/// The train, validation and (when the dataset has one) test splits a config names.
public struct DataSplits {
    /// The training samples as read, before augmentation (`training(epoch:seed:)` gives an epoch's).
    public let train: any Dataset
    public private(set) var validation: any Dataset
    /// nil for datasets without a test split (the validation split stands in).
    public private(set) var test: (any Dataset)?
    /// `data.augment`: the training split's random transforms.
    public private(set) var augmentation: ImageAugmentation?
    /// Per-channel statistics of the training split (`data.normalize: auto`, image folders).
    public private(set) var normalization: ChannelNormalization?
    /// The text of a character- or byte-level corpus, which decodes and encodes its symbols.
    public var corpus: TextCorpus?
    /// The class names of an image folder or a table, in label order.
    public var classNames: [String]?
    /// A table's encoding, measured on its training split.
    public var tableStatistics: TableStatistics?
    /// The files an image folder skipped (`data.skip_bad_files`).
    public var skipped: SkippedImageLog?

    /// - Parameters:
    ///   - train: the training split.
    ///   - validation: evaluated during training.
    ///   - test: evaluated at the end (nil: the validation split stands in).
    ///   - corpus: a text's corpus, if the data is text.
    public init(train: any Dataset, validation: any Dataset, test: (any Dataset)?, corpus: TextCorpus? = nil) {
        (self.train, self.validation, self.test, self.corpus) = (train, validation, test, corpus)
    }

    /// The training split of `epoch`: each sample augmented (drawn from the seed, the epoch and its
    /// index) and normalised, when the config asks for it.
    public func training(epoch: Int, seed: Int) -> any Dataset {
        guard augmentation != nil || normalization != nil else { return train }
        return TransformedDataset(
            train, augmentation: augmentation, normalization: normalization, seed: UInt64(seed), epoch: epoch)
    }

    /// Loads the dataset of `config`, with its augmentation and normalisation.
    /// - Parameters:
    ///   - config: `data:`.
    ///   - seed: the run's seed (synthetic data depends on it).
    public static func load(_ config: DataConfig, seed: Int) throws -> DataSplits {
        var splits = try read(config, seed: seed)
        if let augment = config.augment {
            try augment.check(inputShape: splits.train.inputShape, inputType: splits.train.inputType)
            splits.augmentation = augment
        }
        let perChannel =
            config.normalize == .auto || (config.normalize == .on && config.name == .image_folder)
        if perChannel {
            let statistics = try ChannelNormalization.measure(on: splits.train)
            splits.normalization = statistics
            // Evaluation normalises as training does and never augments.
            func normalized(_ split: any Dataset) -> any Dataset {
                TransformedDataset(split, augmentation: nil, normalization: statistics, seed: 0, epoch: 0)
            }
            splits.validation = normalized(splits.validation)
            splits.test = splits.test.map(normalized)
        }
        return splits
    }

    /// The splits as the files hold them.
    static func read(_ config: DataConfig, seed: Int) throws -> DataSplits {
        switch config.name {
        case .fashion_mnist:
            let directory = expanded(config.directory)
            let normalize = config.normalize == .on
            let all = try FashionMNIST.load(
                directory: directory, split: .train, normalize: normalize, limit: config.limit)
            let test = try FashionMNIST.load(
                directory: directory, split: .test, normalize: normalize, limit: config.limit.map { max(20, $0 / 6) })
            let (train, validation) = all.split(validationFraction: config.validationFraction)
            return DataSplits(train: train, validation: validation, test: test)
        case .shakespeare_char:
            let corpus = try TextCorpus.shakespeare(archive: expanded(config.archive))
            return try text(config.limit.map(corpus.prefix) ?? corpus, config, name: config.archive)
        case .text:
            let corpus = try TextCorpus(path: expanded(config.path ?? ""), level: config.level)
            return try text(config.limit.map(corpus.prefix) ?? corpus, config, name: config.path ?? "")
        case .seq2seq:
            let q = config.seq2seq
            let all = SequenceToSequenceDataset.synthetic(
                q.task, count: q.samples + q.testSamples, length: q.length, vocabulary: q.vocabulary,
                seed: UInt64(seed))
            let cut = q.samples - Int((Double(q.samples) * config.validationFraction).rounded())
            return DataSplits(
                train: all.slice(0..<cut), validation: all.slice(cut..<q.samples),
                test: all.slice(q.samples..<(q.samples + q.testSamples)))
        case .memory:
            let m = config.memory
            let all = SyntheticDataset.memoryTask(
                count: m.samples + m.testSamples, length: m.length, classes: m.classes,
                vocabulary: m.vocabulary, seed: UInt64(seed))
            let (train, validation) = all.slice(0..<m.samples).split(validationFraction: config.validationFraction)
            return DataSplits(
                train: train, validation: validation, test: all.slice(m.samples..<(m.samples + m.testSamples)))
        case .synthetic:
            let s = config.synthetic
            let all = SyntheticDataset.clusters(
                count: s.samples + s.testSamples, inputShape: Shape(s.inputShape),
                classes: s.classes, noise: Float(s.noise), seed: UInt64(seed))
            let (train, validation) = all.slice(0..<s.samples).split(validationFraction: config.validationFraction)
            return DataSplits(
                train: train, validation: validation, test: all.slice(s.samples..<(s.samples + s.testSamples)))
        case .image_folder: return try imageFolder(config)
        case .csv: return try table(config)
        case .numpy: return try arrays(config)
        case .tokens: return try tokens(config)
        }
    }

    /// A path with `~` expanded.
    static func expanded(_ path: String) -> String { (path as NSString).expandingTildeInPath }

    /// A text's windows: the next character of each (`data.targets: last`) or at every position.
    static func text(_ corpus: TextCorpus, _ config: DataConfig, name: String) throws -> DataSplits {
        let (train, validation) = try corpus.split(
            validationFraction: config.validationFraction, context: config.context, name: name)
        if config.targets == .every {
            return DataSplits(
                train: corpus.sequenceDataset(context: config.context, range: train),
                validation: corpus.sequenceDataset(context: config.context, range: validation, stride: config.context),
                test: nil, corpus: corpus)
        }
        return DataSplits(
            train: corpus.nextCharacterDataset(context: config.context, range: train),
            validation: corpus.nextCharacterDataset(context: config.context, range: validation),
            test: nil, corpus: corpus)
    }
}

import TensorCore
