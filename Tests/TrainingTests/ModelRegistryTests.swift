import Foundation
import Testing
import Yams

@testable import Training

/// The model registry and the config values with a fixed set of names.
@Suite("Model registry and config choices")
struct ModelRegistryTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..")
        .standardized.path

    @Test func unknownModelNameListsEveryRegisteredModel() {
        let message = ConfigTests.error("optimizer: {lr: 0.1}\nmodel: {name: vgg16}")
        #expect(ModelRegistry.names.count == 16)
        #expect(
            message == "config error: model.name is \"vgg16\"; allowed: \(ModelRegistry.names.joined(separator: ", "))",
            "got: \(message ?? "no error")")
    }

    /// Every key whose value is one of a fixed set of names refuses another with the whole set.
    @Test(arguments: [
        ("model.name", ModelRegistry.names),
        ("model.position_encoding", ["learned", "sinusoidal"]),
        (
            "data.name",
            [
                "fashion_mnist", "shakespeare_char", "synthetic", "memory", "seq2seq", "image_folder", "csv", "numpy",
                "text", "tokens",
            ]
        ),
        ("data.task", ["classification", "regression"]),
        ("data.missing", ["error", "mean", "drop"]),
        ("data.cache", ["none", "memory"]),
        ("data.level", ["character", "byte"]),
        ("model.loss", ["mse", "mae", "huber"]),
        ("data.targets", ["last", "every"]),
        ("data.seq2seq.task", ["reverse", "sort"]),
        ("optimizer.name", ["sgd", "adam", "adamw", "rmsprop"]),
        (
            "schedule.name",
            [
                "constant", "step", "multistep", "exponential", "cosine", "warmup_cosine", "linear", "one_cycle",
                "plateau",
            ]
        ),
        ("schedule.plateau.metric", MetricName.names),
        ("schedule.plateau.mode", ["min", "max"]),
        ("training.nonfinite", ["error", "skip"]),
        ("precision.mode", ["fp32", "fp16", "bf16"]),
        ("precision.loss_scale", ["auto", "dynamic", "static", "none"]),
        ("distributed.wire", ["fp32", "fp16", "bf16"]),
        ("checkpointing.best_metric", MetricName.names),
        ("checkpointing.best_mode", ["min", "max"]),
        ("logging.progress", ["auto", "bar", "plain", "none"]),
        ("logging.level", ["trace", "debug", "info", "notice", "warning", "error"]),
        ("logging.other_ranks_level", ["trace", "debug", "info", "notice", "warning", "error"]),
        ("pruning.method", ["none", "magnitude", "channels", "heads"]),
        ("pruning.scope", ["global", "layer"]),
    ])
    func choiceOutsideTheSetListsIt(key: String, allowed: [String]) {
        let message = ConfigTests.error("optimizer: {lr: 0.1}", overrides: ["\(key)=nonsense"])
        #expect(
            message == "config error: \(key) is \"nonsense\"; allowed: \(allowed.joined(separator: ", "))",
            "got: \(message ?? "no error")")
    }

    /// A choice inside an optional section is reported alone, like one in a section with defaults.
    @Test func earlyStoppingMetricIsAChoiceToo() {
        let message = ConfigTests.error("optimizer: {lr: 0.1}\ntraining: {early_stopping: {metric: acuracy}}")
        #expect(
            message == "config error: training.early_stopping.metric is \"acuracy\"; allowed: "
                + MetricName.names.joined(separator: ", ") + " (did you mean accuracy?)",
            "got: \(message ?? "no error")")
    }

    @Test func aCloseMisspellingSuggestsTheName() {
        #expect(
            ConfigTests.error("optimizer: {lr: 0.1, name: adamm}")
                == "config error: optimizer.name is \"adamm\"; allowed: sgd, adam, adamw, rmsprop (did you mean adam?)")
        #expect(
            ConfigTests.error("optimizer: {lr: 0.1}\nmodel: {name: lstn}")?.hasSuffix("(did you mean lstm?)") == true)
        // Nothing is suggested for a name that shares little with any allowed one.
        #expect(ConfigTests.error("optimizer: {lr: 0.1}\nmodel: {name: vgg}")?.contains("did you mean") == false)
    }

    @Test func choicesRoundTripThroughTheResolvedYAML() throws {
        let c = try ConfigLoader.parse(
            yaml: "optimizer: {lr: 0.1, name: rmsprop}\nprecision: {mode: bf16, loss_scale: static}\n"
                + "model: {name: gpt, position_encoding: sinusoidal}\ndata: {name: shakespeare_char, targets: every}")
        #expect(c.optimizer.name == .rmsprop && c.precision.mode == .bf16 && c.precision.lossScale == .static)
        #expect(c.model.name.rawValue == "gpt" && c.model.positionEncoding == .sinusoidal && c.data.targets == .every)
        #expect(try ConfigLoader.parse(yaml: ConfigLoader.yaml(c)) == c)
    }

    /// What each entry declares decides the config checks that used to name models one by one.
    @Test func capabilitiesDriveTheChecks() {
        #expect(ModelRegistry.names(with: .batchNorm) == ["resnet", "mobilenet", "inception", "dcgan"])
        #expect(ModelRegistry.names(with: .sampling) == ["gpt"])
        #expect(InferencePlan.supported == ["mlp", "lenet5"])
        #expect(ModelRegistry.entries.filter { !$0.isClassifier }.map(\.name) == ["autoencoder", "vae", "dcgan"])
        let deterministic = ConfigTests.error(
            "optimizer: {lr: 0.1}\nmodel: {name: resnet}\ndeterministic: true\ndistributed: {micro_shards: 2}")
        #expect(deterministic?.contains("model.name is \"resnet\"; allowed: a model without batch norm") == true)
        let gan = ConfigTests.error(
            "optimizer: {lr: 0.1}\nmodel: {name: dcgan}\ndata: {normalize: false}\n"
                + "distributed: {gradient_accumulation: 2}")
        #expect(gan?.contains("1 for dcgan (each step alternates the two players on one batch)") == true)
    }

    /// A registered model is trained by a shipped config and listed in the config reference.
    @Test func everyRegisteredModelHasAConfigAndADocRow() throws {
        let dir = Self.root + "/configs"
        let shipped = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".yaml") }.map {
            try ConfigLoader.load(path: dir + "/" + $0).model.name.rawValue
        }
        let reference = try String(contentsOfFile: Self.root + "/docs/CONFIG.md", encoding: .utf8)
        let nameRow = reference.split(separator: "\n").first { $0.hasPrefix("| `model.name` |") } ?? ""
        for name in ModelRegistry.names {
            #expect(shipped.contains(name), "no config in configs/ trains \(name)")
            #expect(nameRow.contains("`\(name)`"), "the model.name row of docs/CONFIG.md does not list \(name)")
        }
    }
}
