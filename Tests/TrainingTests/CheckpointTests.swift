import Checkpoint
import Collective
import Foundation
import Testing
@testable import Training

/// Checkpoints in one process: bit-exact resume, damaged checkpoints, model mismatches and
/// failed writes. (Resume across ranks is in Tests/CollectiveTests.)
@Suite("Checkpoints and resume", .serialized)
struct CheckpointTests {
    static func config(_ overrides: [String] = []) throws -> TrainConfig {
        try ConfigLoader.parse(
            yaml: """
                model: {name: mlp, hidden_sizes: [16], dropout: 0.2}
                data: {name: synthetic, batch_size: 16, synthetic: {samples: 400, input_shape: [12], classes: 3, test_samples: 60}}
                training: {epochs: 3, test_at_end: false}
                optimizer: {name: adam, lr: 0.01}
                checkpointing: {every_steps: 10, save_final_model: false}
                logging: {progress: none, every_steps: 5}
                """, overrides: overrides)
    }

    static func folder() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("tandem-ckpt-\(UUID().uuidString)").path
    }

    /// Logged step losses after `from` (step -> loss).
    static func losses(_ dir: String, after from: Int) throws -> [Int: Double] {
        var out: [Int: Double] = [:]
        for line in try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8).split(separator: "\n") {
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            if o["split"] == nil, let s = o["step"] as? Int, s > from { out[s] = o["loss"] as? Double }
        }
        return out
    }

    static func run(_ overrides: [String], dir: String, resume: ResumeSource? = nil) throws -> Trainer {
        let t = try Trainer(
            config: config(overrides), runDirectory: dir, communicator: SingleProcessCommunicator(), resume: resume)
        _ = try t.run()
        return t
    }

    /// 2N steps straight against N steps, stop, resume for N more: the same weights to the bit
    /// and the same logged losses, in fp32 with dropout and in fp16 with a dynamic loss scale,
    /// with the stop in the middle of an epoch (N = 30; an epoch is 23 steps).
    @Test(arguments: ["fp32", "fp16"])
    func resumeIsBitExact(precision: String) throws {
        let straight = Self.folder(), split = Self.folder()
        let a = try Self.run(["training.max_steps=60", "precision.mode=\(precision)"], dir: straight)
        let half = try Self.run(["training.max_steps=30", "precision.mode=\(precision)"], dir: split)
        #expect(half.step == 30 && half.epoch == 1 && half.positionInEpoch == 7 * 16)
        let b = try Self.run(["training.max_steps=60", "precision.mode=\(precision)"], dir: split, resume: .auto)
        #expect(b.resumedFrom?.hasSuffix("step-00000030") == true)
        #expect(
            a.ddp.arena.values.scalars.map(\.bitPattern) == b.ddp.arena.values.scalars.map(\.bitPattern),
            "weights differ")
        let la = try Self.losses(straight, after: 30), lb = try Self.losses(split, after: 30)
        #expect(!la.isEmpty && la == lb, "losses after the resume differ: \(la) vs \(lb)")
        if precision == "fp16" { #expect(a.scaler == b.scaler) }
    }

    /// Damage of every kind to the newest checkpoint is reported and the previous one used.
    @Test(arguments: ["truncate", "flip", "no-manifest", "no-latest", "interrupted"])
    func damagedCheckpointsFallBack(damage: String) throws {
        let dir = Self.folder()
        _ = try Self.run(["training.max_steps=20", "checkpointing.keep_last=5"], dir: dir)
        let store = CheckpointStore(directory: dir + "/checkpoints")
        #expect(store.candidates() == ["step-00000020", "step-00000010"])
        let newest = dir + "/checkpoints/step-00000020"
        switch damage {
        case "truncate":
            let data = try Data(contentsOf: URL(fileURLWithPath: newest + "/model.safetensors"))
            try data.prefix(data.count - 10).write(to: URL(fileURLWithPath: newest + "/model.safetensors"))
        case "flip":
            var data = try Data(contentsOf: URL(fileURLWithPath: newest + "/optimizer.safetensors"))
            data[data.count - 3] ^= 0x10
            try data.write(to: URL(fileURLWithPath: newest + "/optimizer.safetensors"))
        case "no-manifest":
            try FileManager.default.removeItem(atPath: newest + "/manifest.json")
        case "no-latest":
            try FileManager.default.removeItem(atPath: dir + "/checkpoints/latest")
        default:  // a write that died before its rename: a temporary folder beside the good ones
            try FileManager.default.createDirectory(
                atPath: dir + "/checkpoints/.tmp-step-00000030", withIntermediateDirectories: false)
            try Data("partial".utf8).write(
                to: URL(fileURLWithPath: dir + "/checkpoints/.tmp-step-00000030/model.safetensors"))
        }
        let (found, skipped) = store.newestValid()
        if damage == "no-latest" || damage == "interrupted" {
            // Nothing is damaged: the newest whole checkpoint is found by its step number.
            #expect(found?.name == "step-00000020" && skipped.isEmpty)
        } else {
            #expect(found?.name == "step-00000010")
            let expected = [
                "truncate": "truncated", "flip": "fails its checksum", "no-manifest": "has no manifest.json",
            ][damage]!
            #expect(
                skipped.count == 1 && skipped[0].contains(expected) && skipped[0].contains("step-00000020"),
                "\(skipped)")
        }
        let t = try Trainer(
            config: Self.config(["training.max_steps=30"]), runDirectory: dir,
            communicator: SingleProcessCommunicator(),
            resume: .auto)
        #expect(t.step == (found?.name == "step-00000010" ? 10 : 20))
    }

    @Test func differentModelIsAClearError() throws {
        let dir = Self.folder()
        _ = try Self.run(["training.max_steps=10"], dir: dir)
        do {
            _ = try Trainer(
                config: Self.config(["model.hidden_sizes=[20]"]), runDirectory: dir,
                communicator: SingleProcessCommunicator(),
                resume: .auto)
            Issue.record("resumed into a different model")
        } catch {
            #expect(
                "\(error)".contains(
                    "different model; these tensors differ:\n  hidden.0.weight: checkpoint [16, 12], model [20, 12]"),
                "\(error)")
            #expect("\(error)".contains("output.weight: checkpoint [3, 16], model [3, 20]"))
        }
        // The same tensors with another model option (dropout) is refused by the config check.
        do {
            _ = try Trainer(
                config: Self.config(["model.dropout=0.5"]), runDirectory: dir,
                communicator: SingleProcessCommunicator(),
                resume: .auto)
            Issue.record("resumed with another dropout")
        } catch {
            #expect("\(error)".contains("different model config"), "\(error)")
        }
        // Safe changes (more epochs, another schedule) are allowed.
        let t = try Trainer(
            config: Self.config(["training.epochs=5", "schedule.name=cosine"]), runDirectory: dir,
            communicator: SingleProcessCommunicator(), resume: .auto)
        #expect(t.step == 10)
        // A checkpoint folder given by path, and no checkpoint at all for auto: a fresh start.
        let byPath = try Trainer(
            config: Self.config(), runDirectory: Self.folder(), communicator: SingleProcessCommunicator(),
            resume: .path(dir + "/checkpoints/step-00000010"))
        #expect(byPath.step == 10)
        let fresh = try Trainer(
            config: Self.config(), runDirectory: Self.folder(), communicator: SingleProcessCommunicator(), resume: .auto
        )
        #expect(fresh.step == 0 && fresh.resumedFrom == nil)
    }

    /// A full disk (a 1 MiB tmpfs filled up, as root) or an unwritable folder (otherwise) makes
    /// checkpoint writes fail: each is reported, training goes on, and the checkpoint written
    /// before stays whole.
    @Test func failedWritesLeaveTrainingRunning() throws {
        let dir = Self.folder()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let mounted = getuid() == 0 && Self.shell("mount -t tmpfs -o size=1m tmpfs \(dir)") == 0
        defer { if mounted { _ = Self.shell("umount \(dir)") } }
        _ = try Self.run(["training.max_steps=10"], dir: dir)
        #expect(CheckpointStore(directory: dir + "/checkpoints").candidates() == ["step-00000010"])
        let t = try Trainer(
            config: Self.config(["training.max_steps=30"]), runDirectory: dir,
            communicator: SingleProcessCommunicator(),
            resume: .auto)
        // The disk fills up (or the folder turns read-only) while the resumed run trains.
        if mounted {
            _ = Self.shell("dd if=/dev/zero of=\(dir)/filler bs=4k 2>/dev/null")
        } else {
            try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: dir + "/checkpoints")
        }
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir + "/checkpoints") }
        let r = try t.run()
        // Steps 20 and 30 (every 10) and 23 (the end of the first epoch) all fail to write.
        #expect(r.steps == 30 && t.checkpoints!.failures.count == 3, "failures: \(t.checkpoints!.failures)")
        #expect(t.checkpoints!.failures.allSatisfy { $0.contains(mounted ? "No space left on device" : "ermission") })
        let store = CheckpointStore(directory: dir + "/checkpoints")
        #expect(store.newestValid().found?.name == "step-00000010" && store.newestValid().skipped.isEmpty)
    }

    @discardableResult
    static func shell(_ command: String) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command]
        try? p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }

    /// A run that blows up after a resume names the checkpoint to go back to.
    @Test func divergenceNamesTheLastCheckpoint() throws {
        let dir = Self.folder()
        _ = try Self.run(["training.max_steps=10", "optimizer.name=sgd", "optimizer.lr=0.1"], dir: dir)
        let t = try Trainer(
            config: Self.config(["training.max_steps=30", "optimizer.name=sgd", "optimizer.lr=1e30"]),
            runDirectory: dir,
            communicator: SingleProcessCommunicator(), resume: .auto)
        do {
            _ = try t.run()
            Issue.record("a run with lr 1e30 finished")
        } catch {
            #expect("\(error)".contains("the last checkpoint is step 10 in \(dir)/checkpoints"), "\(error)")
        }
    }

    /// every_minutes: with a period far below a step's time, every step boundary writes one.
    @Test func timeTriggeredCheckpoints() throws {
        let dir = Self.folder()
        _ = try Self.run(
            [
                "training.max_steps=12", "checkpointing.every_steps=null", "checkpointing.every_minutes=1e-7",
                "checkpointing.keep_last=100",
            ], dir: dir)
        #expect(CheckpointStore(directory: dir + "/checkpoints").candidates().count == 12)
    }

    @Test func retentionKeepsTheLastK() throws {
        let dir = Self.folder()
        _ = try Self.run(
            ["training.max_steps=50", "checkpointing.keep_last=2", "checkpointing.keep_best=true"], dir: dir)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir + "/checkpoints").sorted()
        #expect(names == ["best", "latest", "step-00000046", "step-00000050"], "\(names)")
        #expect(try String(contentsOfFile: dir + "/checkpoints/latest", encoding: .utf8) == "step-00000050\n")
        let manifest = try JSONDecoder().decode(
            CheckpointManifest.self,
            from: Data(contentsOf: URL(fileURLWithPath: dir + "/checkpoints/best/manifest.json")))
        #expect(
            manifest.bestMetric != nil
                && manifest.tensors.contains { $0.name == "hidden.0.weight" && $0.shape == [16, 12] })
    }
}
