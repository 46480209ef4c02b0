/// The largest values the code can compute with: counts and sizes past these would overflow
/// an integer (steps = epochs x steps per epoch, batch x ranks x accumulation, a tensor's
/// bytes) or ask for more memory than any machine has, so the config refuses them by key.
public enum ConfigLimits {
    /// Epochs: times steps per epoch (at most the samples) stays far below Int.max.
    public static let epochs = 1_000_000
    /// Steps, step intervals, evaluation counts, patience and the like.
    public static let count = Int(Int32.max)
    /// Samples per rank per micro-batch, micro-batches per step, micro-shards, reference batch.
    public static let batch = 1 << 20
    /// A model width, channel count or embedding size (a layer of this size still fits an Int's
    /// bytes; whether memory holds it is checked when it is allocated).
    public static let width = 1 << 30
    /// Layers, blocks, heads.
    public static let depth = 4096
    /// Characters of context and tokens of a generated sequence.
    public static let length = 1 << 20
    /// Samples of a generated dataset, and values of one generated sample.
    public static let generated = 1 << 24
    /// Values a generated dataset may hold in all (4 bytes each: 4 GiB).
    public static let generatedValues = 1 << 30
    /// Classes and vocabulary of a generated dataset.
    public static let classes = 1 << 16
    /// Seconds in a stall check or checkpoint interval (about 11 days).
    public static let seconds = 1_000_000.0
    /// Seeds: the shuffle adds the epoch to it.
    public static let seed = Int(UInt32.max)

    /// `values` multiplied, or nil past `limit` (or on overflow).
    static func product(_ values: [Int], limit: Int) -> Int? {
        var total = 1
        for v in values {
            let (p, overflow) = total.multipliedReportingOverflow(by: max(v, 0))
            if overflow || p > limit { return nil }
            total = p
        }
        return total
    }
}

extension ConfigValidator {
    /// Records a problem when `value` exceeds `limit` (a lower bound is checked on its own).
    /// - Parameters:
    ///   - value: what the config holds (nil passes: the key is off).
    ///   - path: the dotted key path.
    ///   - limit: the largest value allowed.
    ///   - what: what the number counts, e.g. "epochs".
    mutating func atMost(_ value: Int?, _ path: String, _ limit: Int, _ what: String) {
        guard let value, value > limit else { return }
        fail("\(path) is \(value); allowed: at most \(limit) \(what)")
    }

    /// The same for every value of a list.
    mutating func atMost(_ values: [Int]?, _ path: String, _ limit: Int, _ what: String) {
        guard let values, let big = values.first(where: { $0 > limit }) else { return }
        fail("\(path) has \(big); allowed: at most \(limit) \(what) each")
    }

    /// The same for seconds, which must also be finite.
    mutating func atMost(_ value: Double?, _ path: String, _ limit: Double, _ what: String) {
        guard let value, !(value <= limit) else { return }
        fail("\(path) is \(value); allowed: at most \(Int(limit)) \(what)")
    }
}

/// The sizes of a generated dataset (synthetic, memory, seq2seq), which is built in memory.
enum GeneratedDataLimits {
    /// Records the problems of one generated dataset's sizes.
    /// - Parameters:
    ///   - section: e.g. `data.synthetic`.
    ///   - samples, testSamples: the split sizes.
    ///   - valuesPerSample: the shape of one sample (synthetic) or its length.
    ///   - lengthKey, classesKey: the keys of the shape and of the classes or vocabulary.
    ///   - classes: classes or vocabulary.
    static func check(
        _ v: inout ConfigValidator, _ section: String, samples: Int, testSamples: Int,
        valuesPerSample: [Int], lengthKey: String, classes: Int, classesKey: String
    ) {
        v.atMost(samples, "\(section).samples", ConfigLimits.generated, "samples")
        v.atMost(testSamples, "\(section).test_samples", ConfigLimits.generated, "samples")
        let counted = classesKey == "classes" ? "classes" : "tokens"
        v.atMost(classes, "\(section).\(classesKey)", ConfigLimits.classes, counted)
        guard let perSample = ConfigLimits.product(valuesPerSample, limit: ConfigLimits.generated) else {
            v.fail(
                "\(section).\(lengthKey) is \(valuesPerSample); "
                    + "allowed: at most \(ConfigLimits.generated) values per sample")
            return
        }
        let all = max(samples, testSamples, classes)
        if ConfigLimits.product([all, perSample], limit: ConfigLimits.generatedValues) == nil {
            v.fail(
                "\(section): \(all) x \(perSample) values per sample is more than the "
                    + "\(ConfigLimits.generatedValues) a generated dataset may hold; "
                    + "lower \(section).samples or \(section).\(lengthKey)")
        }
    }
}
