import Foundation
import Testing

/// `deterministic: true` as a user runs it: real `tandem train` jobs under mpirun on 1-4
/// ranks (3 and 4 oversubscribed, with 1 thread each against 2 for one rank) must end on
/// weights with the same SHA-256 and log the same losses, to the last digit.
extension MPIJobs {
    @Suite("Deterministic mode under mpirun", .serialized)
    struct DeterminismTests {
        static func train(_ config: String, ranks: Int, runDir: String, steps: Int, _ extra: [String] = []) throws
            -> MPIRun
        {
            let run = try MPIRun.launch(
                "/usr/bin/env",
                [
                    "mpirun", "-np", "\(ranks)", "--oversubscribe", "--bind-to", "none",
                    TrainEndToEndTests.tandem, "train", packageRoot + "/configs/" + config,
                    "--run-dir", runDir, "--set", "training.max_steps=\(steps)",
                    "--set", "logging.every_steps=10", "--set", "logging.progress=none",
                ] + extra,
                environment: [:], timeout: 300)
            #expect(run.status == 0, "\(config) on \(ranks) ranks: \(run.stderr)")
            return run
        }

        /// The SHA-256 of a run's final weights, by coreutils' sha256sum.
        static func digest(_ runDir: String) throws -> String {
            let p = Process(), out = Pipe()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
            p.arguments = [runDir + "/model.safetensors"]
            p.standardOutput = out
            try p.run()
            p.waitUntilExit()
            return String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: " ")
                .first.map(String.init) ?? ""
        }

        /// Every logged loss, gradient norm and accuracy of a run, as metrics.jsonl spells them.
        static func logged(_ runDir: String) throws -> [String] {
            try TrainEndToEndTests.metrics(runDir).map { line in
                line.keys.filter {
                    $0.contains("loss") || ["grad_norm", "accuracy", "perplexity", "step", "split"].contains($0)
                }.sorted()
                    .map { "\($0)=\(line[$0]!)" }.joined(separator: " ")
            }
        }

        @Test(arguments: [("lenet5_deterministic.yaml", 200), ("gpt_deterministic.yaml", 200)])
        func oneToFourRanksEndOnTheSameBits(config: String, steps: Int) throws {
            let base = NSTemporaryDirectory() + "tandem-det-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: base) }
            var digests: [String] = [], logs: [[String]] = []
            for ranks in 1...4 {
                _ = try Self.train(
                    config, ranks: ranks, runDir: base + "/\(ranks)", steps: steps,
                    ["--set", "training.max_eval_samples=600", "--set", "checkpointing.enabled=false"])
                digests.append(try Self.digest(base + "/\(ranks)"))
                logs.append(try Self.logged(base + "/\(ranks)"))
            }
            #expect(digests[0].count == 64)
            #expect(Set(digests).count == 1, "\(config): SHA-256 of the weights on 1-4 ranks: \(digests)")
            #expect(logs[0].count >= steps / 10 + 1, "\(logs[0])")
            for r in 1..<4 {
                #expect(logs[r] == logs[0], "\(config): the logs of \(r + 1) ranks differ from one rank's")
            }
        }

        /// Stopped after half the steps on 2 ranks and resumed on 3, a run ends on the bits of one
        /// rank straight through.
        @Test func stoppedOnTwoRanksAndResumedOnThree() throws {
            let base = NSTemporaryDirectory() + "tandem-det-resume-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: base) }
            let constant = ["--set", "schedule.name=constant", "--set", "training.max_eval_samples=600"]
            _ = try Self.train("lenet5_deterministic.yaml", ranks: 1, runDir: base + "/straight", steps: 120, constant)
            _ = try Self.train("lenet5_deterministic.yaml", ranks: 2, runDir: base + "/resumed", steps: 60, constant)
            _ = try Self.train(
                "lenet5_deterministic.yaml", ranks: 3, runDir: base + "/resumed", steps: 120,
                constant + ["--resume", "auto"])
            #expect(try Self.digest(base + "/resumed") == Self.digest(base + "/straight"))
        }

        /// The control: without deterministic mode the same global batch on 1 and 2 ranks ends on
        /// different bits (so the equalities above are not an accident of the setup).
        @Test func theNormalPathDependsOnTheWorldSize() throws {
            let base = NSTemporaryDirectory() + "tandem-det-control-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: base) }
            let normal = [
                "--set", "deterministic=false", "--set", "distributed.micro_shards=null", "--set",
                "training.max_eval_samples=600",
            ]
            _ = try Self.train(
                "lenet5_deterministic.yaml", ranks: 1, runDir: base + "/1", steps: 30,
                normal + ["--set", "data.batch_size=96"])
            _ = try Self.train(
                "lenet5_deterministic.yaml", ranks: 2, runDir: base + "/2", steps: 30,
                normal + ["--set", "data.batch_size=48"])
            #expect(try Self.digest(base + "/1") != Self.digest(base + "/2"))
        }

        @Test func aWorldSizeThatDoesNotDivideTheShardsIsRefused() throws {
            let base = NSTemporaryDirectory() + "tandem-det-five-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: base) }
            let run = try MPIRun.launch(
                "/usr/bin/env",
                [
                    "mpirun", "-np", "5", "--oversubscribe", "--bind-to", "none", TrainEndToEndTests.tandem,
                    "train", packageRoot + "/configs/lenet5_deterministic.yaml", "--run-dir", base,
                ],
                environment: ["TANDEM_NUM_THREADS": "1"], timeout: 120)
            #expect(run.status != 0)
            #expect(
                run.stderr.contains(
                    "distributed.micro_shards 12 shards, which do not divide over 5 ranks; run on 1, 2, 3, 4, 6, 12 ranks"
                ),
                "\(run.stderr)")
        }
    }
}
