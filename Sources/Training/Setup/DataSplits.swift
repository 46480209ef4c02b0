import Datasets
import Foundation

/// The train, validation and (when the dataset has one) test splits a config names.
public struct DataSplits {
    public let train: any Dataset
    public let validation: any Dataset
    /// nil for datasets without a test split (the validation split stands in).
    public let test: (any Dataset)?
    /// Characters of the vocabulary, for character-level corpora.
    public let vocabulary: [UInt8]?

    /// Loads the dataset of `config`.
    /// - Parameter seed: the run's seed (synthetic data depends on it).
    public static func load(_ config: DataConfig, seed: Int) throws -> DataSplits {
        switch config.name {
        case .fashion_mnist:
            let directory = (config.directory as NSString).expandingTildeInPath
            let all = try FashionMNIST.load(
                directory: directory, split: .train, normalize: config.normalize, limit: config.limit)
            let test = try FashionMNIST.load(
                directory: directory, split: .test, normalize: config.normalize,
                limit: config.limit.map { max(20, $0 / 6) })
            let (train, validation) = all.split(validationFraction: config.validationFraction)
            return DataSplits(train: train, validation: validation, test: test, vocabulary: nil)
        case .shakespeare_char:
            let corpus = try CharacterCorpus.shakespeare(archive: (config.archive as NSString).expandingTildeInPath)
            let limited =
                config.limit.map { CharacterCorpus(Array(corpus.ids.prefix($0).map { corpus.vocabulary[Int($0)] })) }
                ?? corpus
            let (train, validation) = limited.split(validationFraction: config.validationFraction)
            guard validation.count > config.context else {
                throw DatasetError(
                    "the validation part of the text (\(validation.count) characters) is shorter than data.context + 1; "
                        + "raise data.limit or data.validation_fraction")
            }
            if config.targets == .every {
                return DataSplits(
                    train: limited.sequenceDataset(context: config.context, range: train),
                    validation: limited.sequenceDataset(
                        context: config.context, range: validation, stride: config.context),
                    test: nil, vocabulary: limited.vocabulary)
            }
            return DataSplits(
                train: limited.nextCharacterDataset(context: config.context, range: train),
                validation: limited.nextCharacterDataset(context: config.context, range: validation),
                test: nil, vocabulary: limited.vocabulary)
        case .seq2seq:
            let q = config.seq2seq
            let all = SequenceToSequenceDataset.synthetic(
                q.task, count: q.samples + q.testSamples,
                length: q.length, vocabulary: q.vocabulary, seed: UInt64(seed))
            let cut = q.samples - Int((Double(q.samples) * config.validationFraction).rounded())
            return DataSplits(
                train: all.slice(0..<cut), validation: all.slice(cut..<q.samples),
                test: all.slice(q.samples..<(q.samples + q.testSamples)), vocabulary: nil)
        case .memory:
            let m = config.memory
            let all = SyntheticDataset.memoryTask(
                count: m.samples + m.testSamples, length: m.length, classes: m.classes,
                vocabulary: m.vocabulary, seed: UInt64(seed))
            let (train, validation) = all.slice(0..<m.samples).split(validationFraction: config.validationFraction)
            return DataSplits(
                train: train, validation: validation, test: all.slice(m.samples..<(m.samples + m.testSamples)),
                vocabulary: nil)
        case .synthetic:
            let s = config.synthetic
            let all = SyntheticDataset.clusters(
                count: s.samples + s.testSamples, inputShape: Shape(s.inputShape),
                classes: s.classes, noise: Float(s.noise), seed: UInt64(seed))
            let (train, validation) = all.slice(0..<s.samples).split(validationFraction: config.validationFraction)
            return DataSplits(
                train: train, validation: validation, test: all.slice(s.samples..<(s.samples + s.testSamples)),
                vocabulary: nil)
        }
    }
}

import TensorCore
