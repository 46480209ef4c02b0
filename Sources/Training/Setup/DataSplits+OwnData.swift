import Datasets
import Foundation

/// The user's own data: image folders, tables, NumPy arrays and token files.
extension DataSplits {
    /// `DIR/train/<class>/`, with `validation/` and `test/` when present.
    static func imageFolder(_ config: DataConfig) throws -> DataSplits {
        let options = ImageFolderOptions(
            imageSize: config.imageSize.map { ImageSize(height: $0[0], width: $0[1]) }, channels: config.channels,
            cache: config.cache, skipBadFiles: config.skipBadFiles)
        let folder = try ImageFolder(directory: expanded(config.directory), options: options)
        var train = folder.train, validation = folder.validation
        if validation == nil { (train, validation) = try train.split(validationFraction: config.validationFraction) }
        if let limit = config.limit { train = train.subset(roundRobin(train.labels).prefix(limit).sorted()) }
        var splits = DataSplits(train: train, validation: validation!, test: folder.test)
        (splits.classNames, splits.skipped) = (folder.classNames, folder.skipped)
        return splits
    }

    /// The indices of `labels` taking one of each class in turn (the first of every class, then
    /// the second, ...), so that a prefix of any length holds the classes evenly, as a prefix of a
    /// shuffled dataset would; a folder lists its files class by class.
    static func roundRobin(_ labels: [Int32]) -> [Int] {
        var byClass: [Int32: [Int]] = [:]
        for (i, label) in labels.enumerated() { byClass[label, default: []].append(i) }
        let classes = byClass.keys.sorted()
        let depth = byClass.values.map(\.count).max() ?? 0
        return (0..<depth).flatMap { k in classes.compactMap { c in k < byClass[c]!.count ? byClass[c]![k] : nil } }
    }

    /// A CSV table: `data.train` (and `data.validation`, `data.test`) or one `data.path` split by the fraction.
    static func table(_ config: DataConfig) throws -> DataSplits {
        let target = config.target?.names ?? []
        let standardize = config.normalize != .off
        let train: TableDataset, validation: TableDataset
        if let path = config.path {
            (train, validation) = try TableDataset.split(
                table: CSVTable(path: expanded(path)), target: target, task: config.task,
                validationFraction: config.validationFraction, missing: config.missing, standardize: standardize)
        } else if let held = config.validation {
            train = try TableDataset(
                table: CSVTable(path: expanded(config.train ?? "")), target: target, task: config.task,
                missing: config.missing, standardize: standardize)
            validation = try TableDataset(
                table: CSVTable(path: expanded(held)), statistics: train.statistics, missing: config.missing)
        } else {
            (train, validation) = try TableDataset.split(
                table: CSVTable(path: expanded(config.train ?? "")), target: target, task: config.task,
                validationFraction: config.validationFraction, missing: config.missing, standardize: standardize)
        }
        let test = try config.test.map {
            try TableDataset(table: CSVTable(path: expanded($0)), statistics: train.statistics, missing: config.missing)
        }
        var splits = DataSplits(train: train, validation: validation, test: test)
        splits.tableStatistics = train.statistics
        if config.task == .classification { splits.classNames = train.statistics.classNames }
        return splits
    }

    /// NumPy arrays: `data.inputs` and `data.labels` (and `test_inputs`, `test_labels`), mapped.
    static func arrays(_ config: DataConfig) throws -> DataSplits {
        func open(_ reference: String) throws -> NumpyArray {
            // FILE.npz:KEY names an array of an archive; anything else is a .npy file.
            if let colon = reference.range(of: ".npz:", options: .backwards) {
                let file = String(reference[..<colon.lowerBound]) + ".npz"
                return try NumpyArrayFile.open(expanded(file), key: String(reference[colon.upperBound...]))
            }
            return try NumpyArrayFile.open(expanded(reference))
        }
        let all = try NumpyDataset(
            inputs: open(config.inputs ?? ""), targets: open(config.labels ?? ""), task: config.task)
        var (train, validation) = try all.split(validationFraction: config.validationFraction)
        if let limit = config.limit { train = train.slice(0..<min(limit, train.count)) }
        var test: NumpyDataset?
        if let inputs = config.testInputs, let labels = config.testLabels {
            test = try NumpyDataset(
                inputs: open(inputs), targets: open(labels), task: config.task,
                classCount: config.task == .classification ? all.classCount : nil)
        }
        return DataSplits(train: train, validation: validation, test: test)
    }

    /// nanoGPT's uint16 token files: `data.train` and `data.validation` (or the training file's end).
    static func tokens(_ config: DataConfig) throws -> DataSplits {
        let vocabulary = config.vocabSize ?? 0, context = config.context
        let trainPath = expanded(config.train ?? "")
        let windows: TokenFileDataset.Windows =
            config.windowsPerEpoch.map { .random(count: $0, seed: 0) } ?? .strided(1)
        if let held = config.validation {
            return DataSplits(
                train: try TokenFileDataset(
                    path: trainPath, vocabularySize: vocabulary, context: context, windows: windows),
                validation: try TokenFileDataset(
                    path: expanded(held), vocabularySize: vocabulary, context: context, windows: .strided(context)),
                test: nil)
        }
        let whole = try TokenFileDataset(
            path: trainPath, vocabularySize: vocabulary, context: context, windows: .strided(context))
        let cut = whole.tokens.count - Int(Double(whole.tokens.count) * config.validationFraction)
        return DataSplits(
            train: try TokenFileDataset(
                path: trainPath, vocabularySize: vocabulary, context: context, windows: windows, range: 0..<cut,
                checkTokens: false),
            validation: try TokenFileDataset(
                path: trainPath, vocabularySize: vocabulary, context: context, windows: .strided(context),
                range: cut..<whole.tokens.count, checkTokens: false),
            test: nil)
    }
}
