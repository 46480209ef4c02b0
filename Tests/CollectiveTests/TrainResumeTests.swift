import Checkpoint
import Foundation
import Testing

/// `tandem train` stopped (by a limit, a signal or a kill) and resumed, under mpirun.
extension MPIJobs.TrainEndToEndTests {
    /// Under mpirun: 2 ranks stopped at step 21 (mid-epoch) and resumed on 2 ranks end
    /// bit-identical to 42 steps straight; resumed on 1 rank (the same global batch) they end
    /// within float rounding of it. One rank stopped at step 18 and resumed on 3 ranks ends
    /// within rounding of one rank straight through.
    @Test func resumeAcrossRanks() throws {
        let base = NSTemporaryDirectory() + "tandem-resume-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: base) }
        func train(_ ranks: Int, _ batch: Int, _ dir: String, steps: Int, resume: Bool = false) throws {
            let run = try Self.train(
                ranks: ranks, batch: batch, runDir: base + "/" + dir,
                ["--set", "training.max_steps=\(steps)", "--set", "schedule.name=constant"]
                    + (resume ? ["--resume", "auto"] : []))
            #expect(run.status == 0, "\(dir): \(run.stderr)")
        }
        try train(2, 16, "straight", steps: 42)
        try train(2, 16, "same", steps: 21)
        try FileManager.default.copyItem(atPath: base + "/same", toPath: base + "/fewer")
        try train(2, 16, "same", steps: 42, resume: true)
        #expect(
            FileManager.default.contents(atPath: base + "/same/model.safetensors")
                == FileManager.default.contents(atPath: base + "/straight/model.safetensors"),
            "2 -> 2 ranks is not bit-exact")
        try train(1, 32, "fewer", steps: 42, resume: true)
        let straight = try Self.weights(base + "/straight")
        #expect(Self.largestDifference(try Self.weights(base + "/fewer"), straight) < 1e-4)

        try train(1, 48, "one", steps: 36)
        try train(1, 48, "more", steps: 18)
        try train(3, 16, "more", steps: 36, resume: true)
        let diff = Self.largestDifference(try Self.weights(base + "/more"), try Self.weights(base + "/one"))
        #expect(diff < 1e-4, "1 -> 3 ranks differs from one rank straight through by \(diff)")
    }

    /// `distributed.shard_optimizer: true` on 2 ranks (ZeRO stage 1) ends within float rounding
    /// of one rank on the global batch. Stopped at step 21 and resumed, it ends bit-identical to
    /// 42 steps straight, and resumed on one rank without sharding it ends within rounding of
    /// one rank straight through: the checkpoint holds the whole momentum buffer, gathered
    /// from both ranks' shards (rank 0 alone updated only its half).
    @Test func shardedOptimizerTrainsAndResumes() throws {
        let base = NSTemporaryDirectory() + "tandem-sharded-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: base) }
        let sharded = ["--set", "distributed.shard_optimizer=true"]
        func train(
            _ ranks: Int, _ batch: Int, _ dir: String, steps: Int, _ extra: [String] = [], resume: Bool = false
        ) throws {
            let run = try Self.train(
                ranks: ranks, batch: batch, runDir: base + "/" + dir,
                ["--set", "training.max_steps=\(steps)", "--set", "schedule.name=constant"] + extra
                    + (resume ? ["--resume", "auto"] : []))
            #expect(run.status == 0, "\(dir): \(run.stderr)")
        }
        try train(1, 32, "one", steps: 42)
        try train(2, 16, "straight", steps: 42, sharded)
        let one = try Self.weights(base + "/one")
        let diff = Self.largestDifference(try Self.weights(base + "/straight"), one)
        #expect(diff < 1e-4, "sharded on 2 ranks differs from one rank by \(diff)")
        try train(2, 16, "same", steps: 21, sharded)
        try FileManager.default.copyItem(atPath: base + "/same", toPath: base + "/fewer")
        try train(2, 16, "same", steps: 42, sharded, resume: true)
        #expect(
            FileManager.default.contents(atPath: base + "/same/model.safetensors")
                == FileManager.default.contents(atPath: base + "/straight/model.safetensors"),
            "sharded 2 -> 2 ranks is not bit-exact")
        try train(1, 32, "fewer", steps: 42, resume: true)
        let resumed = Self.largestDifference(try Self.weights(base + "/fewer"), one)
        #expect(resumed < 1e-4, "sharded 2 ranks resumed on 1 differs from one rank straight through by \(resumed)")
    }

    /// On a background thread: once `ready()` holds (polled for up to a minute), sends `signal`
    /// to the newest rank process of the `tandem train` writing to `runDir`.
    static func signalNewestRank(_ signal: String, of runDir: String, when ready: @escaping @Sendable () -> Bool) {
        Thread {
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                if ready() {
                    let pkill = Process()
                    pkill.executableURL = URL(fileURLWithPath: "/usr/bin/pkill")
                    pkill.arguments = [signal, "-n", "-f", "^\(tandem) train .*\(runDir)"]
                    try? pkill.run()
                    pkill.waitUntilExit()
                    return
                }
                usleep(2_000)
            }
        }.start()
    }

    /// SIGTERM to one rank mid-run: every rank stops at the same step boundary, rank 0 writes
    /// a checkpoint, the job exits with status 75, and resuming reaches the weights of an
    /// uninterrupted run to the bit.
    @Test func signalStopsEveryRankAndResumes() throws {
        let base = NSTemporaryDirectory() + "tandem-signal-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: base) }
        let settings = [
            "--set", "training.max_steps=1500", "--set", "training.epochs=200", "--set", "schedule.name=constant",
            "--set", "checkpointing.at_epoch_end=false", "--set", "training.eval_every_epochs=1000",
        ]
        let straight = try Self.train(ranks: 2, batch: 16, runDir: base + "/straight", settings)
        #expect(straight.status == 0, "\(straight.stderr)")
        // Start the run in the background and signal rank 1's process once it has logged steps.
        let dir = base + "/stopped"
        Self.signalNewestRank("-TERM", of: dir) {
            ((try? String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8))?.split(separator: "\n").count
                ?? 0) >= 5
        }
        let stopped = try Self.train(ranks: 2, batch: 16, runDir: dir, settings)
        #expect(stopped.status == 75, "status \(stopped.status): \(stopped.stderr)")
        #expect(stopped.stdout.contains("stopped by signal 15"), "\(stopped.stdout)")
        let resumed = try Self.train(ranks: 2, batch: 16, runDir: dir, settings + ["--resume", "auto"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("after 1500 steps"))
        #expect(
            FileManager.default.contents(atPath: dir + "/model.safetensors")
                == FileManager.default.contents(atPath: base + "/straight/model.safetensors"),
            "the resumed run is not bit-exact")
    }

    /// SIGKILL of one rank ends the whole job promptly; `--resume auto` then loses only the
    /// steps since the last checkpoint and still ends bit-identical to an uninterrupted run.
    @Test func killedRankEndsTheJobAndResumeLosesLittle() throws {
        let base = NSTemporaryDirectory() + "tandem-kill-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: base) }
        let settings = [
            "--set", "training.max_steps=1500", "--set", "training.epochs=200", "--set", "schedule.name=constant",
            "--set", "checkpointing.at_epoch_end=false", "--set", "checkpointing.every_steps=100",
            "--set", "training.eval_every_epochs=1000",
        ]
        let straight = try Self.train(ranks: 2, batch: 16, runDir: base + "/straight", settings)
        let dir = base + "/killed"
        Self.signalNewestRank("-KILL", of: dir) {
            FileManager.default.fileExists(atPath: dir + "/checkpoints/step-00000200")
        }
        let killed = try Self.train(ranks: 2, batch: 16, runDir: dir, settings)
        #expect(killed.status != 0 && killed.seconds < 60)
        let resumed = try Self.train(ranks: 2, batch: 16, runDir: dir, settings + ["--resume", "auto"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        // It restarted from the newest checkpoint before the kill (every 100 steps, at least step 200).
        let line = resumed.stdout.split(separator: "\n").first { $0.hasPrefix("resumed from") } ?? ""
        let from =
            line.split(separator: " ").firstIndex(of: "step").flatMap {
                Int(line.split(separator: " ")[$0 + 1].dropLast())
            } ?? -1
        #expect(from >= 200 && from % 100 == 0 && from < 1500, "\(line)")
        #expect(
            FileManager.default.contents(atPath: dir + "/model.safetensors")
                == FileManager.default.contents(atPath: base + "/straight/model.safetensors"),
            "the resumed run is not bit-exact")
        #expect(straight.status == 0)
    }
}
