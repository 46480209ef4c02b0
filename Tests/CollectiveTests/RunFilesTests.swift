import Checkpoint
import Foundation
import Testing

/// What a run directory survives: a full disk, a crash mid-line, a second job, damaged or
/// edited checkpoints, a failed start; and the words its messages use.
extension MPIJobs {
    @Suite("Run files that survive", .serialized)
    struct RunFilesTests {
        static let smoke = packageRoot + "/configs/synthetic_smoke.yaml"

        /// `tandem ARGUMENTS` as one process.
        static func tandem(_ arguments: [String], timeout: Double = 120) throws -> MPIRun {
            try MPIRun.launch(
                TrainEndToEndTests.tandem, arguments, environment: ["TANDEM_NUM_THREADS": "1"], timeout: timeout)
        }

        static func train(_ runDir: String, _ extra: [String] = []) throws -> MPIRun {
            try tandem(["train", smoke, "--run-dir", runDir, "--set", "logging.progress=none"] + extra)
        }

        /// Every line of metrics.jsonl parses, and no step has two training lines.
        static func checkMetrics(_ runDir: String) throws {
            let text = try String(contentsOfFile: runDir + "/metrics.jsonl", encoding: .utf8)
            #expect(text.isEmpty || text.hasSuffix("\n"), "metrics.jsonl ends mid-line")
            var steps: [Int] = []
            for line in text.split(separator: "\n") {
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                #expect(object != nil, "not a whole JSON line: \(line)")
                if let object, object["split"] == nil, let step = object["step"] as? Int { steps.append(step) }
            }
            #expect(Set(steps).count == steps.count, "steps logged twice: \(steps)")
        }

        /// A run on a 1 MiB file system: checkpoints fill it part-way. The run still ends with its
        /// model (the oldest checkpoint freed for it), metrics.jsonl holds only whole lines, no
        /// temporary is left holding space, and every message is in words.
        @Test(.enabled(if: getuid() == 0, "needs root to mount a small tmpfs"))
        func aFullDiskLosesNothingAndSaysSo() throws {
            let mount = NSTemporaryDirectory() + "tandem-full-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
            guard try runCommand("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mount]) == 0 else {
                Issue.record("could not mount a tmpfs at \(mount)")
                return
            }
            defer {
                _ = try? runCommand("/bin/umount", [mount])
                try? FileManager.default.removeItem(atPath: mount)
            }
            let run = try Self.train(
                mount + "/run",
                [
                    "--set", "model.hidden_sizes=[256]", "--set", "checkpointing.every_steps=1",
                    "--set", "checkpointing.keep_last=1000",
                ])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stderr.contains("No space left on device"), "\(run.stderr)")
            #expect(
                !run.stderr.contains("Domain") && !run.stderr.contains("Code="), "a raw Foundation error: \(run.stderr)"
            )
            #expect(run.stderr.contains("removed the oldest checkpoint"), "\(run.stderr)")
            _ = try SafeTensors.decode(
                Data(contentsOf: URL(fileURLWithPath: mount + "/run/model.safetensors")), name: "model")
            try Self.checkMetrics(mount + "/run")
            let left = try FileManager.default.contentsOfDirectory(atPath: mount + "/run/checkpoints")
            #expect(!left.contains { $0.hasPrefix(".tmp-") || $0.hasSuffix(".tmp") }, "temporaries left: \(left)")
            #expect(!FileManager.default.fileExists(atPath: mount + "/run/model.safetensors.tmp"))
        }

        /// When model.safetensors cannot be written at all, the checkpoint of the last step is the
        /// run's result, and the run says so and how to export it.
        @Test func anUnwritableModelKeepsTheLastCheckpointAsTheResult() throws {
            let dir = NSTemporaryDirectory() + "tandem-files-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: dir) }
            #expect(try Self.train(dir).status == 0)
            try FileManager.default.removeItem(atPath: dir + "/model.safetensors")
            try FileManager.default.createDirectory(
                atPath: dir + "/model.safetensors/taken", withIntermediateDirectories: true)
            let run = try Self.tandem(["resume", dir, "--set", "training.epochs=4", "--set", "logging.progress=none"])
            #expect(run.status == 0, "\(run.stderr)")
            let last = try Self.latest(dir)
            #expect(
                run.stderr.contains(
                    "\(dir)/model.safetensors could not be written (cannot move "
                        + "\(dir)/model.safetensors.tmp to \(dir)/model.safetensors: Is a directory); the trained weights of step "
                        + "\(Int(last.dropFirst(5))!) are in the checkpoint \(dir)/checkpoints/\(last), the run's result: `tandem export"
                ), "\(run.stderr)")
            let export = try Self.tandem([
                "export", dir + "/checkpoints/" + last, "--to", dir + "/exported.safetensors",
            ])
            #expect(export.status == 0, "\(export.stderr)")
        }

        /// The folder `checkpoints/latest` names.
        static func latest(_ runDir: String) throws -> String {
            try String(contentsOfFile: runDir + "/checkpoints/latest", encoding: .utf8).trimmingCharacters(
                in: .whitespacesAndNewlines)
        }

        /// A crash that cut metrics.jsonl mid-line, and a resume from a checkpoint older than the
        /// last logged step: the torn line is removed with a warning, the steps trained again replace
        /// their old lines, and the file has one line per step.
        @Test func aTornLineIsRepairedAndReplayedStepsAreNotLoggedTwice() throws {
            let dir = NSTemporaryDirectory() + "tandem-files-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: dir) }
            #expect(
                try Self.train(dir, ["--set", "checkpointing.every_steps=10", "--set", "checkpointing.keep_last=20"])
                    .status == 0)
            try ResumeAcrossWorldSizesTests.copy(dir, to: dir + "-cut", atStep: 40)
            defer { try? FileManager.default.removeItem(atPath: dir + "-cut") }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "-cut/metrics.jsonl"))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data("{\"epoch\":2,\"loss\":0.2".utf8))
            try handle.close()
            let resumed = try Self.tandem(["resume", dir + "-cut", "--set", "logging.progress=none"])
            #expect(resumed.status == 0, "\(resumed.stderr)")
            #expect(resumed.stderr.contains("metrics.jsonl ended in a torn line of 21 bytes"), "\(resumed.stderr)")
            try Self.checkMetrics(dir + "-cut")
            let lines = try TrainEndToEndTests.metrics(dir + "-cut").filter { $0["split"] == nil }.map {
                $0["step"] as! Int
            }
            let straight = try TrainEndToEndTests.metrics(dir).filter { $0["split"] == nil }.map { $0["step"] as! Int }
            #expect(lines == straight)
        }

        /// A second job on a run directory in use is refused with the first one's PID and host; a job
        /// killed outright leaves a lock that the next job takes over, with a warning.
        @Test func oneJobPerRunDirectory() throws {
            let dir = NSTemporaryDirectory() + "tandem-files-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let first = Process()
            first.executableURL = URL(fileURLWithPath: TrainEndToEndTests.tandem)
            first.arguments = [
                "train", Self.smoke, "--run-dir", dir, "--set", "logging.progress=none", "--set",
                "training.epochs=100000",
                "--set", "checkpointing.every_steps=50",
            ]
            first.standardOutput = FileHandle.nullDevice
            first.standardError = FileHandle.nullDevice
            try first.run()
            defer { if first.isRunning { kill(first.processIdentifier, SIGKILL) } }
            let deadline = Date().addingTimeInterval(60)
            while !FileManager.default.fileExists(atPath: dir + "/checkpoints/latest") && Date() < deadline {
                usleep(20_000)
            }
            let second = try Self.tandem(["resume", dir])
            #expect(second.status != 0)
            #expect(
                second.stderr.contains(
                    "the run directory \(dir) is in use by another tandem job (PID \(first.processIdentifier) on host "),
                "\(second.stderr)")
            kill(first.processIdentifier, SIGKILL)
            first.waitUntilExit()
            let third = try Self.tandem(["resume", dir, "--set", "training.epochs=3", "--set", "logging.progress=none"])
            #expect(third.status == 0, "\(third.stderr)")
            #expect(
                third.stderr.contains(
                    "took over the lock of \(dir) from a job that ended without releasing it (PID \(first.processIdentifier)"
                ),
                "\(third.stderr)")
        }

        /// Damaged and edited checkpoints: a damaged newest checkpoint is reported once and skipped;
        /// a `latest` holding garbage or naming a folder that is gone is reported; a manifest that
        /// cannot be read says why instead of calling it missing.
        @Test func damagedCheckpointsAreReportedInWords() throws {
            let dir = NSTemporaryDirectory() + "tandem-files-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: dir) }
            #expect(
                try Self.train(dir, ["--set", "checkpointing.every_steps=10", "--set", "checkpointing.keep_last=20"])
                    .status == 0)
            let checkpoints = dir + "/checkpoints", newest = checkpoints + "/" + (try Self.latest(dir))
            let model = newest + "/model.safetensors"
            let bytes = try Data(contentsOf: URL(fileURLWithPath: model))
            try bytes.prefix(bytes.count - 9).write(to: URL(fileURLWithPath: model))
            func resume() throws -> MPIRun { try Self.tandem(["resume", dir, "--set", "logging.progress=none"]) }
            let damaged = try resume()
            #expect(damaged.status == 0, "\(damaged.stderr)")
            #expect(
                damaged.stderr.components(separatedBy: "skipping a damaged checkpoint").count == 2, "\(damaged.stderr)")

            try "\u{1}\u{2}garbage\u{0}".write(toFile: checkpoints + "/latest", atomically: true, encoding: .utf8)
            let garbage = try resume()
            #expect(
                garbage.stderr.contains(
                    "\(checkpoints)/latest holds 10 bytes that are no checkpoint name (damaged or edited?); "
                        + "the newest whole checkpoint by step is used instead"), "\(garbage.stderr)")
            try "step-00000555\n".write(toFile: checkpoints + "/latest", atomically: true, encoding: .utf8)
            let dangling = try resume()
            #expect(
                dangling.stderr.contains(
                    "\(checkpoints)/latest names \"step-00000555\", which is not there (deleted?)"),
                "\(dangling.stderr)")

            let folder = checkpoints + "/step-00000080"
            try FileManager.default.removeItem(atPath: folder + "/manifest.json")
            try FileManager.default.createDirectory(
                atPath: folder + "/manifest.json", withIntermediateDirectories: false)
            let unreadable = try Self.tandem(["inspect", folder])
            #expect(unreadable.status != 0)
            #expect(
                unreadable.stderr.contains("cannot read \(folder)/manifest.json: Is a directory"),
                "\(unreadable.stderr)")
        }

        /// A start that fails after the run directory was made (here: a batch larger than the data)
        /// leaves no "run" behind: the corrected command runs in the same directory. The batch check
        /// itself names the numbers and the setting that allows it.
        @Test func aFailedStartCanBeRetriedInTheSameDirectory() throws {
            let dir = NSTemporaryDirectory() + "tandem-files-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let failed = try Self.train(dir, ["--set", "data.batch_size=1000"])
            #expect(failed.status != 0)
            #expect(
                failed.stderr.contains(
                    "one global batch (1 rank x batch 1000 x accumulation 1 = global batch 1000) holds more samples "
                        + "than the 461 of the training split"), "\(failed.stderr)")
            #expect(failed.stderr.contains("set data.allow_batch_larger_than_dataset: true"))
            let retried = try Self.train(dir)
            #expect(retried.status == 0, "\(retried.stderr)")
            let allowed = try Self.train(
                dir + "/big", ["--set", "data.batch_size=1000", "--set", "data.allow_batch_larger_than_dataset=true"])
            #expect(allowed.status == 0, "\(allowed.stderr)")
        }

        /// Messages count epochs from 1, say where a run that ended mid-epoch stopped, and spell a
        /// non-finite gradient norm in words.
        @Test func messagesSayWhereTheRunStands() throws {
            let dir = NSTemporaryDirectory() + "tandem-files-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let short = try Self.tandem([
                "train", Self.smoke, "--run-dir", dir + "/short", "--set", "training.max_steps=5",
                "--set", "logging.progress=plain",
            ])
            #expect(short.status == 0, "\(short.stderr)")
            #expect(short.stdout.contains("test at step 5 (epoch 1 of 3, part-way): loss"), "\(short.stdout)")
            #expect(!short.stdout.contains("epoch 0"))
            let diverged = try Self.train(
                dir + "/nan", ["--set", "optimizer.lr=1e30", "--set", "clipping.max_norm=null"])
            #expect(diverged.status != 0)
            #expect(
                diverged.stderr.contains("the gradient norm is NaN (not a number) at step")
                    || diverged.stderr.contains("the gradient norm is infinite at step"), "\(diverged.stderr)")
            #expect(!diverged.stderr.contains("-nan") && !diverged.stderr.contains(" nan "))
        }

        /// Training on after `tandem quantize` removes the int8 model of the old weights, and says so.
        @Test func resumingAfterQuantizeRemovesTheStaleInt8Model() throws {
            let dir = NSTemporaryDirectory() + "tandem-files-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: dir) }
            #expect(try Self.train(dir).status == 0)
            let quantized = try Self.tandem(["quantize", dir])
            #expect(quantized.status == 0, "\(quantized.stderr)")
            #expect(FileManager.default.fileExists(atPath: dir + "/model.int8.safetensors"))
            let resumed = try Self.tandem([
                "resume", dir, "--set", "training.epochs=4", "--set", "logging.progress=none",
            ])
            #expect(resumed.status == 0, "\(resumed.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/model.int8.safetensors"))
            #expect(
                resumed.stderr.contains(
                    "removed \(dir)/model.int8.safetensors, which was quantized from the weights before this "
                        + "training; run `tandem quantize \(dir)` again"), "\(resumed.stderr)")
        }
    }
}

/// Runs a command and returns its exit status.
@discardableResult
func runCommand(_ path: String, _ arguments: [String]) throws -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = arguments
    try p.run()
    p.waitUntilExit()
    return p.terminationStatus
}
