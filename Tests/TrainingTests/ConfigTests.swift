import Foundation
import Testing
@testable import Training

/// The config schema: defaults, overrides, and a table of bad configs with their messages.
@Suite("Configs")
struct ConfigTests {
    static func error(_ yaml: String, overrides: [String] = []) -> String? {
        do { _ = try ConfigLoader.parse(yaml: yaml, source: "test.yaml", overrides: overrides); return nil } catch {
            return "\(error)"
        }
    }

    @Test func defaultsFillWhatTheFileLeavesOut() throws {
        let c = try ConfigLoader.parse(yaml: "model:\n  name: mlp\noptimizer:\n  lr: 0.05\n")
        #expect(c.model.name.rawValue == "mlp" && c.model.hiddenSizes == [256, 128] && c.optimizer.lr == 0.05)
        #expect(c.data.batchSize == 64 && c.training.earlyStopping == nil && c.schedule.plateau.patience == 10)
        #expect(c.distributed.sharedMemory)
        // An empty file says so, and what a config needs at least; with --set it is all defaults.
        let empty = "config error: test.yaml is empty: a config needs at least a learning rate"
        #expect(Self.error("")?.hasPrefix(empty) == true)
        #expect(Self.error("# nothing but a comment\n")?.contains("test.yaml is empty") == true)
        #expect(try ConfigLoader.parse(yaml: "", overrides: ["optimizer.lr=0.1"]).optimizer.lr == 0.1)
        #expect(try ConfigLoader.parse(yaml: "optimizer: {name: adamw}").optimizer.resolvedWeightDecay == 0.01)
        // An optional section given in part takes the rest from its defaults.
        let e = try ConfigLoader.parse(yaml: "optimizer: {lr: 0.1}\ntraining:\n  early_stopping:\n    patience: 7\n")
        #expect(
            e.training.earlyStopping
                == {
                    var s = EarlyStoppingConfig(); s.patience = 7; return s
                }())
    }

    @Test func overridesSetAnyKey() throws {
        let c = try ConfigLoader.parse(
            yaml: "optimizer: {lr: 0.1}",
            overrides: [
                "optimizer.lr=1e-3", "model.hidden_sizes=[32, 16]", "training.early_stopping.metric=accuracy",
                "training.early_stopping.mode=max", "data.limit=100", "clipping.max_norm=1", "seed=7",
                "distributed.shared_memory=false",
            ])
        #expect(!c.distributed.sharedMemory)
        #expect(c.optimizer.lr == 1e-3 && c.model.hiddenSizes == [32, 16] && c.seed == 7 && c.data.limit == 100)
        #expect(c.training.earlyStopping?.metric == .accuracy && c.clipping.maxNorm == 1)
        // The resolved YAML reads back to the same config, and its hash is stable.
        let again = try ConfigLoader.parse(yaml: ConfigLoader.yaml(c))
        #expect(again == c && ConfigLoader.hash(again) == ConfigLoader.hash(c))
        #expect(ConfigLoader.hash(c) != ConfigLoader.hash(try ConfigLoader.parse(yaml: "optimizer: {lr: 0.1}")))
    }

    /// Each bad config and (part of) the message it must give: key path, value, what is allowed.
    @Test(arguments: [
        (
            "optimizer: {lr: 0.1, momentun: 0.9}", [String](),
            "unknown key optimizer.momentun (did you mean momentum?); allowed keys in optimizer: allow_zero_lr, alpha, "
                + "betas, centered, dampening, decay_bias_and_norm, eps, groups, l1, lr, momentum, name, nesterov, "
                + "weight_decay"
        ),
        ("optimiser: {lr: 0.1}", [], "unknown key optimiser (did you mean optimizer?)"),
        ("optimizer: {lr: fast}", [], "optimizer.lr is \"fast\"; allowed: a number"),
        ("optimizer: {lr: 0.1}\ndata: {batch_size: 1.5}", [], "data.batch_size is \"1.5\"; allowed: an integer"),
        (
            "optimizer: {lr: 0.1}\ndata: {batch_size: 0}", [],
            "data.batch_size is 0; allowed: a positive number of samples per rank"
        ),
        ("optimizer: {lr: -1}", [], "optimizer.lr is -1.0; allowed: a positive number"),
        (
            "optimizer: {lr: 0}", [],
            "optimizer.lr is 0.0; allowed: a positive number (at 0 nothing trains; set optimizer.allow_zero_lr: true"
        ),
        ("optimizer: {lr: 0.1}", ["optimizer.lr="], "--set optimizer.lr= has no value; write --set optimizer.lr=VALUE"),
        ("optimizer: {lr: 0.1}", ["optimizer.lr=  "], "--set optimizer.lr=   has no value"),
        // Every problem at once: an unknown key, two wrong types and a bad value.
        (
            "optimizer: {lr: fast, momentun: 0.9}\ndata: {batch_size: 0}\nmodel: {dropout: x}", [],
            "config errors:\n  - unknown key optimizer.momentun (did you mean momentum?); allowed keys in optimizer: "
                + "allow_zero_lr, alpha, betas, centered, dampening, decay_bias_and_norm, eps, groups, l1, lr, momentum, "
                + "name, nesterov, weight_decay\n"
                + "  - model.dropout is \"x\"; allowed: a number\n  - optimizer.lr is \"fast\"; allowed: a number\n"
                + "  - data.batch_size is 0; allowed: a positive number of samples per rank"
        ),
        // Wrong types in an optional key and in a list are reported with the rest.
        (
            "optimizer: {lr: 0.1}\ntraining: {max_steps: soon, epochs: many}\nmodel: {hidden_sizes: [8, x]}", [],
            "config errors:\n  - model.hidden_sizes[1] is \"x\"; allowed: an integer\n"
                + "  - training.epochs is \"many\"; allowed: an integer\n"
                + "  - training.max_steps is \"soon\"; allowed: an integer"
        ),
        // Counts and sizes the code cannot compute with.
        (
            "optimizer: {lr: 0.1}\ntraining: {epochs: 100000000000000000}", [],
            "training.epochs is 100000000000000000; allowed: at most 1000000 epochs"
        ),
        (
            "optimizer: {lr: 0.1}", ["training.max_steps=9223372036854775807"],
            "training.max_steps is 9223372036854775807; allowed: at most 2147483647 steps"
        ),
        (
            "optimizer: {lr: 0.1}", ["model.hidden_sizes=[64, 4000000000000000000]"],
            "model.hidden_sizes has 4000000000000000000; allowed: at most 1073741824 units each"
        ),
        (
            "optimizer: {lr: 0.1}",
            ["data.batch_size=1099511627776", "distributed.gradient_accumulation=1099511627776"],
            "config errors:\n  - data.batch_size is 1099511627776; allowed: at most 1048576 samples per rank\n"
                + "  - distributed.gradient_accumulation is 1099511627776; allowed: at most 1048576 micro-batches"
        ),
        (
            "optimizer: {lr: 0.1}", ["data.synthetic.input_shape=[65536, 65536, 65536]"],
            "data.synthetic.input_shape is [65536, 65536, 65536]; allowed: at most 16777216 values per sample"
        ),
        (
            "optimizer: {lr: 0.1}", ["data.synthetic.input_shape=[4096, 4096]", "data.synthetic.samples=4096"],
            "data.synthetic: 4096 x 16777216 values per sample is more than the 1073741824 a generated dataset may hold"
        ),
        (
            "optimizer: {lr: 0.1}", ["model.layers=1000000000"],
            "model.layers is 1000000000; allowed: at most 4096 layers"
        ),
        (
            "optimizer: {lr: 0.1}", ["distributed.stall_warning_seconds=.inf"],
            "distributed.stall_warning_seconds is inf; allowed: at most 1000000 seconds"
        ),
        (
            "optimizer: {lr: 0.1}", ["seed=9223372036854775807"],
            "seed is 9223372036854775807; allowed: an integer from 0 to 4294967295"
        ),
        ("optimizer: {lr: 0.1, name: lamb}", [], "optimizer.name is \"lamb\"; allowed: sgd, adam, adamw, rmsprop"),
        (
            "optimizer: {lr: 0.1}\nmodel: {name: vgg}", [],
            "model.name is \"vgg\"; allowed: mlp, lenet5, resnet, mobilenet, inception, char_mlp"
        ),
        ("optimizer: {lr: 0.1}\nmodel: lenet5", [], "model is value \"lenet5\"; allowed: a mapping of its keys"),
        (
            "optimizer: {lr: 0.1}\nmodel: {hidden_sizes: [64, x]}", [],
            "model.hidden_sizes[1] is \"x\"; allowed: an integer"
        ),
        ("optimizer: {lr: 0.1, betas: [0.9]}", [], "optimizer.betas is [0.9]; allowed: two numbers in [0, 1)"),
        (
            "optimizer: {lr: 0.1, nesterov: true}", [],
            "optimizer.nesterov is true; allowed: true only with momentum > 0 and dampening 0"
        ),
        (
            "optimizer: {lr: 0.1}\nschedule: {name: warmup_cosine}", [],
            "schedule.warmup_steps is 0; allowed: at least 1 for warmup_cosine"
        ),
        (
            "optimizer: {lr: 0.1}\nschedule: {milestones: [30, 10]}", [],
            "schedule.milestones is [30, 10]; allowed: increasing positive step numbers"
        ),
        ("optimizer: {lr: 0.1}\nprecision: {mode: fp8}", [], "precision.mode is \"fp8\"; allowed: fp32, fp16, bf16"),
        (
            "optimizer: {lr: 0.1}\nprecision: {loss_scale: sometimes, backoff_factor: 2}", [],
            "config errors:\n  - precision.loss_scale is \"sometimes\"; allowed: auto, dynamic, static, none\n  - precision.backoff_factor is 2.0"
        ),
        (
            "optimizer: {lr: 0.1}\ndistributed: {wire: int8}", [],
            "distributed.wire is \"int8\"; allowed: fp32, fp16, bf16"
        ),
        ("optimizer: {lr: 0.1}\ndistributed: {gradient_accumulation: 0}", [], "distributed.gradient_accumulation is 0"),
        (
            "optimizer: {lr: 0.1}\ndistributed: {shard_optimizer: yes please}", [],
            "distributed.shard_optimizer is \"yes please\"; allowed: true or false"
        ),
        (
            "optimizer: {lr: 0.1}\ndistributed: {shared_memory: 2}", [],
            "distributed.shared_memory is \"2\"; allowed: true or false"
        ),
        (
            "optimizer: {lr: 0.1}\ndistributed: {startup_timeout_seconds: 0}", [],
            "distributed.startup_timeout_seconds is 0.0; allowed: null (no limit) or 1 to 86400 seconds"
        ),
        (
            "optimizer: {lr: 0.1}\ndeterministic: true\ndistributed: {micro_shards: 4, shard_optimizer: true}", [],
            "distributed.shard_optimizer is true; allowed: false with deterministic: true"
        ),
        (
            "optimizer: {lr: 0.1}\ntraining: {early_stopping: {metric: speed}}", [],
            "training.early_stopping.metric is \"speed\"; allowed: loss, accuracy, top_k_accuracy"
        ),
        (
            "optimizer: {lr: 0.1}\nlogging: {progress: fancy}", [],
            "logging.progress is \"fancy\"; allowed: auto, bar, plain, none"
        ),
        (
            "optimizer: {lr: 0.1}\nmodel: {name: char_mlp}", [],
            "model.name is \"char_mlp\"; allowed: data.name shakespeare_char with data.targets last or text with data.targets last for char_mlp (the config has data.name fashion_mnist)"
        ),
        (
            "optimizer: {lr: 0.1}\nmodel: {name: lstm}", [],
            "allowed: data.name memory, shakespeare_char with data.targets every, text with data.targets every or tokens for lstm"
        ),
        (
            "optimizer: {lr: 0.1}\nmodel: {name: gpt}\ndata: {name: shakespeare_char}", [],
            "model.name is \"gpt\"; allowed: data.name shakespeare_char with data.targets every, text with data.targets every or tokens for gpt (the config has data.name shakespeare_char with data.targets last)"
        ),
        (
            "optimizer: {lr: 0.1}\nmodel: {name: gpt, embedding_size: 30, heads: 4}\ndata: {name: shakespeare_char, targets: every}",
            [],
            "model.embedding_size is 30; allowed: a multiple of model.heads (4)"
        ),
        (
            "optimizer: {lr: 0.1}", ["model.position_encoding=rotary"],
            "model.position_encoding is \"rotary\"; allowed: learned, sinusoidal"
        ),
        ("optimizer: {lr: 0.1}\ntraining: {epochs: true}", [], "training.epochs is \"true\"; allowed: an integer"),
        ("- just\n- a list", [], "test.yaml must be a mapping of sections"),
        ("model: {name: [unclosed", [], "test.yaml is not valid YAML"),
        ("optimizer: {lr: 0.1}", ["optimizer.lr"], "--set optimizer.lr is not of the form key.path=value"),
        (
            "optimizer: {lr: 0.1}", ["optimizer.lr.x=1"],
            "--set optimizer.lr.x=1: optimizer.lr is a value, not a section"
        ),
        ("optimizer: {lr: 0.1}", ["optimizer.speed=1"], "unknown key optimizer.speed"),
        (
            "optimizer: {lr: 0.1}", ["data.batch_size=-2", "model.dropout=1"],
            "config errors:\n  - model.dropout is 1.0; allowed: 0 <= dropout < 1\n  - data.batch_size is -2"
        ),
        (
            "optimizer: {lr: 0.1}\nmodel: {name: mlp}\ndata: {name: csv, train: t.csv}", [],
            "data.target is null; allowed: the target column's name (or a list of columns for several regression targets)"
        ),
        (
            "optimizer: {lr: 0.1}\nmodel: {name: mlp}\ndata: {name: csv, train: t.csv, path: p.csv, target: y}", [],
            "data.path is \"p.csv\"; allowed: one table in data.path (split by data.validation_fraction) or data.train"
        ),
        (
            "optimizer: {lr: 0.1}\nmodel: {name: mlp}\ndata: {name: numpy, labels: y.npy}", [],
            "data.inputs is null; allowed: the inputs as FILE.npy or FILE.npz:KEY for data.name numpy"
        ),
        (
            "optimizer: {lr: 0.1}\nmodel: {name: mlp}\ndata: {name: numpy, inputs: x.npy, labels: y.npy, test_inputs: t.npy}",
            [], "data.test_labels is null; allowed: set together with data.test_inputs (both or neither)"
        ),
        (
            "optimizer: {lr: 0.1}\nmodel: {name: gpt}\ndata: {name: tokens, train: t.bin}", [],
            "data.vocab_size is null; allowed: the tokenizer's vocabulary size, 2 to 65536 (uint16 ids)"
        ),
        (
            "optimizer: {lr: 0.1}\nmodel: {name: gpt}\ndata: {name: text, targets: every}", [],
            "data.path is null; allowed: a UTF-8 file or a folder of .txt files for data.name text"
        ),
        (
            "optimizer: {lr: 0.1}\nmodel: {name: mlp}\ndata: {task: regression}", [],
            "data.task is \"regression\"; allowed: classification for data.name fashion_mnist (regression reads csv or numpy targets)"
        ),
        (
            "optimizer: {lr: 0.1}\nmodel: {name: lenet5}\ndata: {name: numpy, inputs: x.npy, labels: y.npy, task: regression}",
            [],
            "model.name is \"lenet5\"; allowed: a model that regresses with data.task regression: mlp"
        ),
        (
            "optimizer: {lr: 0.1}\nmodel: {name: mlp}\ndata: {name: csv, path: t.csv, target: y, normalize: auto}", [],
            "data.normalize is auto; allowed: true or false for data.name csv (auto measures images per channel)"
        ),
        (
            "optimizer: {lr: 0.1}\ndata: {normalize: maybe}", [],
            "data.normalize is \"maybe\"; allowed: true, false or auto"
        ),
        (
            "optimizer: {lr: 0.1}\ndata: {augment: {horizontal_flip: 1.5}}", [],
            "data.augment.horizontal_flip is 1.5; allowed: a probability from 0 (off) to 1"
        ),
        (
            "optimizer: {lr: 0.1}\nmodel: {name: gpt}\ndata: {name: text, path: a.txt, targets: every, augment: {}}",
            [],
            "data.augment is \"a section\"; allowed: null for data.name text (augmentation transforms images)"
        ),
        (
            "optimizer: {lr: 0.1}\ndata: {name: image_folder, directory: d, image_size: [0, 5], channels: 2}", [],
            "config errors:\n  - data.image_size is [0, 5]; allowed: null or [height, width] in pixels\n"
                + "  - data.channels is 2; allowed: null, 1 (grey) or 3 (RGB)"
        ),
        (
            "optimizer: {lr: 0.1}\nmodel: {name: mlp}\ndata: {name: csv, path: t.csv, target: y, task: regression}\n"
                + "training: {early_stopping: {metric: accuracy}}", [],
            "training.early_stopping.metric is \"accuracy\"; allowed: one of loss, mae, mse, rmse, r2 with data.task regression"
        ),
        (
            "optimizer: {lr: 0.1}\nmodel: {huber_delta: 0}", [],
            "model.huber_delta is 0.0; allowed: a positive number"
        ),
        (
            "optimizer: {lr: 0.1, l1: -0.5}", [],
            "optimizer.l1 is -0.5; allowed: a non-negative number (0: no L1 penalty)"
        ),
        (
            "optimizer: {lr: 0.1, groups: [{prefix: f, lr: 0.01}, {prefix: f5., lr: 0.001}]}", [],
            "optimizer.groups[0].prefix \"f\" and optimizer.groups[1].prefix \"f5.\" overlap; allowed: prefixes "
                + "of which none starts another, so each parameter belongs to one group"
        ),
        (
            "optimizer: {lr: 0.1, groups: [{prefix: c1., lr: 0, weight_decay: -1}]}", [],
            "config errors:\n  - optimizer.groups[0].lr is 0.0; allowed: null (optimizer.lr) or a positive number\n"
                + "  - optimizer.groups[0].weight_decay is -1.0; allowed: null (optimizer.weight_decay) or a "
                + "non-negative number"
        ),
        (
            "optimizer: {lr: 0.1, groups: [{prefix: f5., rate: 0.01}]}", [],
            "optimizer.groups[0].rate is \"0.01\"; unknown key: a group has prefix, lr and weight_decay"
        ),
        ("optimizer: {lr: 0.1, groups: [{lr: 0.01}]}", [], "optimizer.groups[0].prefix is missing"),
        (
            "optimizer: {lr: 0.1}\ntraining: {unfreeze_at_epoch: 2}", [],
            "training.unfreeze_at_epoch is 2; allowed: null without training.freeze (there is nothing to unfreeze)"
        ),
        (
            "optimizer: {lr: 0.1}\ntraining: {epochs: 3, freeze: [c1.], unfreeze_at_epoch: 5}", [],
            "training.unfreeze_at_epoch is 5; allowed: an epoch from 2 to training.epochs (3), counted from 1"
        ),
        (
            "optimizer: {lr: 0.1}\ntraining: {freeze: [c1., \"\"]}", [],
            "training.freeze is [\"c1.\", \"\"]; allowed: a list of non-empty parameter name prefixes"
        ),
        (
            "optimizer: {lr: 0.1}\ntraining: {freeze: [c1.]}\npruning: {method: magnitude, sparsity: 0.5}", [],
            "training.freeze is [\"c1.\"]; allowed: [] with pruning (pruning.method magnitude changes the weights"
        ),
    ])
    func badConfigsNameTheProblem(yaml: String, overrides: [String], expected: String) {
        let message = Self.error(yaml, overrides: overrides)
        #expect(message?.contains(expected) == true, "got: \(message ?? "no error")")
    }

    /// `optimizer.lr: 0` is refused unless `optimizer.allow_zero_lr` says it is meant.
    @Test func zeroLearningRateNeedsConsent() throws {
        #expect(Self.error("optimizer: {lr: 0}")?.contains("optimizer.allow_zero_lr: true") == true)
        let c = try ConfigLoader.parse(yaml: "optimizer: {lr: 0, allow_zero_lr: true}")
        #expect(c.optimizer.resolvedLR == 0 && c.optimizer.allowZeroLR)
        // Consent does not let a negative rate through.
        let negative = Self.error("optimizer: {lr: -0.1, allow_zero_lr: true}")
        #expect(negative?.contains("optimizer.lr is -0.1; allowed: a positive number") == true)
    }

    /// A file that is not text is named as such, and its bytes never reach the message.
    @Test func binaryConfigIsRefusedWithoutEchoingIt() throws {
        let path = NSTemporaryDirectory() + "tandem-binary-\(UUID().uuidString).yaml"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let elf: [UInt8] = [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0] + (0..<200).map { UInt8($0) }
        try Data(elf).write(to: URL(fileURLWithPath: path))
        func message(_ file: String) throws -> String {
            "\(try #require(throws: ConfigError.self) { try ConfigLoader.load(path: file) })"
        }
        #expect(
            try message(path) == "config error: config file \(path) is not a YAML text file "
                + "(it holds a NUL byte at offset 7); give the .yaml config (configs/*.yaml), not a binary")
        // Invalid UTF-8 and control characters without a NUL are refused as well.
        try Data([0x6d, 0x6f, 0x64, 0x65, 0x6c, 0x3a, 0xff, 0xfe]).write(to: URL(fileURLWithPath: path))
        #expect(try message(path).contains("its bytes are not UTF-8"))
        try Data("model: {name: mlp}\u{1b}[2J\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(try message(path).contains("control character 27 at offset 18"))
        // A folder given as the config.
        #expect(try message(NSTemporaryDirectory()).contains("is a directory"))
    }

    /// The keys two resolved configs differ on, with both values (what ranks started differently are told).
    @Test func differencesNameTheKeys() throws {
        let a = try ConfigLoader.yaml(ConfigLoader.parse(yaml: "optimizer: {lr: 0.1}"))
        let b = try ConfigLoader.yaml(ConfigLoader.parse(yaml: "optimizer: {lr: 0.2}\ndata: {batch_size: 8}"))
        #expect(
            ConfigDifference.between(a, b) == [
                ConfigDifference(key: "data.batch_size", first: "64", second: "8"),
                ConfigDifference(key: "optimizer.lr", first: "0.1", second: "0.2"),
            ])
        #expect(ConfigDifference.between(a, a).isEmpty)
    }

    /// Every shipped config loads.
    @Test func shippedConfigsLoad() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../configs")
            .standardized.path
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".yaml") }
        #expect(files.count >= 3)
        for f in files { _ = try ConfigLoader.load(path: dir + "/" + f) }
    }
}
