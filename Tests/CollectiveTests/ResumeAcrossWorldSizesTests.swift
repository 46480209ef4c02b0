import Foundation
import Testing

/// A run stopped on one number of ranks and resumed on another trains what the uninterrupted
/// run trains: the same global batch, the same number of steps and the same schedule.
extension MPIJobs {
    @Suite("Resume on another world size", .serialized)
    struct ResumeAcrossWorldSizesTests {
        /// 576 training samples, a global batch of 48 (2 ranks x 24): 12 steps an epoch, 36 in all,
        /// a checkpoint every 6 steps; the cosine schedule ends at min_lr.
        static let settings = [
            "--set", "logging.progress=plain", "--set", "data.synthetic.samples=640", "--set", "logging.every_steps=4",
            "--set", "schedule.name=cosine", "--set", "schedule.min_lr=0.001", "--set", "checkpointing.every_steps=6",
            "--set", "checkpointing.keep_last=20",
        ]

        static func train(ranks: Int, runDir: String, _ extra: [String] = []) throws -> MPIRun {
            try MPIRun.launch(
                "/usr/bin/env",
                [
                    "mpirun", "-np", "\(ranks)", "--oversubscribe", "--bind-to", "none",
                    TrainEndToEndTests.tandem, "train", packageRoot + "/configs/synthetic_smoke.yaml",
                    "--run-dir", runDir, "--set", "data.batch_size=24",
                ] + settings + extra,
                environment: ["TANDEM_NUM_THREADS": "1"], timeout: 120)
        }

        /// A copy of the finished run `from` as it stood at checkpoint `step`: later checkpoints and
        /// the model removed, `latest` pointing at it; metrics.jsonl keeps the later lines, as after
        /// a crash.
        static func copy(_ from: String, to: String, atStep step: Int) throws {
            let fm = FileManager.default
            try fm.copyItem(atPath: from, toPath: to)
            try fm.removeItem(atPath: to + "/model.safetensors")
            for name in try fm.contentsOfDirectory(atPath: to + "/checkpoints") where name.hasPrefix("step-") {
                if Int(name.dropFirst(5))! > step { try fm.removeItem(atPath: to + "/checkpoints/" + name) }
            }
            try (String(format: "step-%08d", step) + "\n").write(
                toFile: to + "/checkpoints/latest", atomically: true, encoding: .utf8)
        }

        /// The training lines of metrics.jsonl.
        static func steps(_ runDir: String) throws -> [[String: Any]] {
            try TrainEndToEndTests.metrics(runDir).filter { $0["split"] == nil }
        }

        /// The cosine rate of step t (0-based) of T: min + (base - min)(1 + cos(πt/T))/2.
        static func cosine(_ t: Int, of total: Int) -> Double {
            0.001 + (0.05 - 0.001) * (1 + cos(Double.pi * Double(t) / Double(total))) / 2
        }

        /// From an epoch's end (step 12) and from mid-epoch (step 18), resumed on 1, 3 and 4 ranks:
        /// the global batch stays 48 (the per-rank batch or the accumulation changes), the run ends
        /// at step 36 with the rate at the schedule's last value, one metrics line per step, and the
        /// weights of the uninterrupted run within float rounding. The log and the terminal say how
        /// the position and batch were mapped.
        @Test func resumedOnOneThreeAndFourRanksTrainsTheSameRun() throws {
            let base = NSTemporaryDirectory() + "tandem-worlds-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: base) }
            let straight = try Self.train(ranks: 2, runDir: base + "/straight")
            #expect(straight.status == 0, "\(straight.stderr)")
            let reference = try Self.steps(base + "/straight"),
                weights = try TrainEndToEndTests.weights(base + "/straight")
            #expect(reference.last?["step"] as? Int == 36)
            #expect(Swift.abs((reference.last!["lr"] as! Double) - Self.cosine(35, of: 36)) < 1e-12)
            let layouts = [
                1: "1 rank x batch 24 x accumulation 2", 3: "3 ranks x batch 16 x accumulation 1",
                4: "4 ranks x batch 12 x accumulation 1",
            ]
            for at in [12, 18] {
                for ranks in [1, 3, 4] {
                    let dir = base + "/from\(at)-on\(ranks)"
                    try Self.copy(base + "/straight", to: dir, atStep: at)
                    let run = try Self.train(ranks: ranks, runDir: dir, ["--resume", "auto"])
                    #expect(run.status == 0, "\(at) on \(ranks): \(run.stderr)")
                    let mapping =
                        "resumed from \(dir)/checkpoints/step-000000\(at) at step \(at), epoch 2 of 3 ("
                        + "\(at == 12 ? 0 : 288) of 576 samples into it); written by 2 ranks x batch 24 x accumulation 1 = global batch 48, "
                        + "now \(layouts[ranks]!) = global batch 48; \(36 - at) steps to go, 36 in all"
                    #expect(run.stdout.contains(mapping), "\(at) on \(ranks): \(run.stdout)")
                    let log = try String(contentsOfFile: dir + "/train.log", encoding: .utf8)
                    #expect(log.contains(mapping), "\(at) on \(ranks): the log lacks the mapping")
                    #expect(
                        run.stdout.contains("test accuracy") && run.stdout.contains("after 36 steps"), "\(run.stdout)")
                    let lines = try Self.steps(dir)
                    #expect(
                        lines.map { $0["step"] as! Int } == reference.map { $0["step"] as! Int },
                        "\(at) on \(ranks): lines by step")
                    #expect(
                        Swift.abs((lines.last!["lr"] as! Double) - Self.cosine(35, of: 36)) < 1e-12, "\(at) on \(ranks)"
                    )
                    let diff = TrainEndToEndTests.largestDifference(try TrainEndToEndTests.weights(dir), weights)
                    #expect(diff < 1e-4, "\(at) on \(ranks): weights differ from the uninterrupted run by \(diff)")
                }
            }
        }

        /// Resumed on the same ranks from step 18 (between two logged steps), the run is bit-exact and
        /// logs the same losses, the first line after the resume included: the checkpoint keeps the
        /// logging window.
        @Test func sameRanksResumeLogsTheSameLosses() throws {
            let base = NSTemporaryDirectory() + "tandem-worlds-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: base) }
            #expect(try Self.train(ranks: 2, runDir: base + "/straight").status == 0)
            try Self.copy(base + "/straight", to: base + "/resumed", atStep: 18)
            let run = try Self.train(ranks: 2, runDir: base + "/resumed", ["--resume", "auto"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(
                FileManager.default.contents(atPath: base + "/resumed/model.safetensors")
                    == FileManager.default.contents(atPath: base + "/straight/model.safetensors"), "not bit-exact")
            let losses = { (dir: String) in
                try Self.steps(dir).map { "\($0["step"]!) \($0["loss"]!) \($0["grad_norm"]!)" }
            }
            #expect(try losses(base + "/resumed") == losses(base + "/straight"))
        }

        /// A global batch that does not divide over the new ranks is refused with the world sizes that
        /// keep it and the setting that lets it change; with that setting the run trains on and its
        /// schedule still ends at its last value, over the steps it now has.
        @Test func aGlobalBatchThatCannotBeKeptIsRefusedUnlessAllowed() throws {
            let base = NSTemporaryDirectory() + "tandem-worlds-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: base) }
            #expect(try Self.train(ranks: 2, runDir: base + "/straight").status == 0)
            try Self.copy(base + "/straight", to: base + "/five", atStep: 18)
            let refused = try Self.train(ranks: 5, runDir: base + "/five", ["--resume", "auto"])
            #expect(refused.status != 0)
            #expect(
                refused.stderr.contains(
                    "the checkpoint's global batch is 48 (2 ranks x batch 24 x accumulation 1 = global batch 48), "
                        + "which does not divide over 5 ranks; resume on 1, 2, 3, 4, 6, 8, 12 or 16 ranks to keep it, or let it change with "
                        + "--set distributed.keep_global_batch=false"), "\(refused.stderr)")
            let changed = try Self.train(
                ranks: 5, runDir: base + "/five", ["--resume", "auto", "--set", "distributed.keep_global_batch=false"])
            #expect(changed.status == 0, "\(changed.stderr)")
            #expect(
                changed.stdout.contains(
                    "now 5 ranks x batch 24 x accumulation 1 = global batch 120 (the global batch changed"))
            // 288 samples of epoch 2 left at 120 a step (the last padded): 3 steps; epoch 3: 5 steps of 580.
            #expect(changed.stdout.contains("8 steps to go, 26 in all"), "\(changed.stdout)")
            let lines = try Self.steps(base + "/five")
            #expect(lines.last?["step"] as? Int == 26)
            #expect(Swift.abs((lines.last!["lr"] as! Double) - Self.cosine(25, of: 26)) < 1e-12)
        }
    }
}
