import Foundation
import Testing

extension MPIJobs {
    /// Preemption as clusters do it (SIGTERM to mpirun, to every rank, Ctrl-C, SLURM's signals),
    /// through the launch scripts users run, and what those scripts do when the build fails or the
    /// output is not a terminal.
    @Suite("Preemption through the launch scripts", .serialized)
    struct PreemptionTests {
        /// An MLP of 44 M parameters on synthetic data: its checkpoint (weights and SGD momentum,
        /// about 350 MB) takes over a second to write here, longer than mpirun's default grace.
        static let bigModel = [
            "--set", "data.synthetic.input_shape=[1024]", "--set", "model.hidden_sizes=[6144,6144]",
            "--set", "data.synthetic.samples=640", "--set", "data.batch_size=16",
            "--set", "training.epochs=1000", "--set", "training.max_steps=20",
            "--set", "schedule.name=constant",
            "--set", "checkpointing.at_epoch_end=false", "--set", "training.eval_every_epochs=1000",
            "--set", "logging.every_steps=1", "--set", "logging.progress=plain",
        ]

        /// A job started in the background: a launch script or mpirun, with its output in files.
        final class Job {
            let process = Process()
            let out: URL, err: URL
            private let folder: URL

            /// Starts `arguments[0]` with the rest; `newSession` runs it as the leader of a process
            /// group of its own, as a shell's foreground job is, so a Ctrl-C can be sent to that group.
            init(_ arguments: [String], environment: [String: String] = [:], newSession: Bool = false) throws {
                folder = FileManager.default.temporaryDirectory.appendingPathComponent(
                    "tandem-job-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                (out, err) = (folder.appendingPathComponent("stdout"), folder.appendingPathComponent("stderr"))
                _ = FileManager.default.createFile(atPath: out.path, contents: nil)
                _ = FileManager.default.createFile(atPath: err.path, contents: nil)
                process.executableURL = URL(fileURLWithPath: newSession ? "/usr/bin/setsid" : "/usr/bin/env")
                process.arguments = (newSession ? ["--fork", "--wait"] : []) + arguments
                var env = ProcessInfo.processInfo.environment
                env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
                env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
                env["TANDEM_NUM_THREADS"] = "1"
                env.merge(environment) { $1 }
                process.environment = env
                process.standardOutput = try FileHandle(forWritingTo: out)
                process.standardError = try FileHandle(forWritingTo: err)
                // Test threads block signals and a child inherits that mask: unblock them for the
                // spawn, so the job takes signals as it would from a shell.
                var empty = sigset_t(), saved = sigset_t()
                sigemptyset(&empty)
                pthread_sigmask(SIG_SETMASK, &empty, &saved)
                defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
                try process.run()
            }

            deinit { try? FileManager.default.removeItem(at: folder) }

            var stdout: String { (try? String(contentsOf: out, encoding: .utf8)) ?? "" }
            var stderr: String { (try? String(contentsOf: err, encoding: .utf8)) ?? "" }

            /// Waits up to `timeout` seconds for the job to end; its exit status, or nil after a hang
            /// (then the job's process group is killed and the hang recorded).
            func wait(timeout: Double) -> Int32? {
                let deadline = Date().addingTimeInterval(timeout)
                while process.isRunning && Date() < deadline { usleep(50_000) }
                if process.isRunning {
                    Issue.record("\(process.arguments ?? []) still running after \(timeout) s")
                    kill(-process.processIdentifier, SIGKILL)
                    kill(process.processIdentifier, SIGKILL)
                    process.waitUntilExit()
                    return nil
                }
                return process.terminationStatus
            }
        }

        /// Process ids whose command line matches the extended regular expression `pattern` (pgrep -f).
        static func pids(_ pattern: String) -> [pid_t] {
            let p = Process(), pipe = Pipe()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/pgrep")
            p.arguments = ["-f", pattern]
            p.standardOutput = pipe
            guard (try? p.run()) != nil else { return [] }
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { pid_t($0) }
        }

        /// Waits up to `timeout` seconds until `condition` holds.
        static func eventually(_ timeout: Double, _ condition: () -> Bool) -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if condition() { return true }
                usleep(50_000)
            }
            return condition()
        }

        /// Lines of the run's metrics.jsonl so far.
        static func loggedSteps(_ runDir: String) -> Int {
            ((try? String(contentsOfFile: runDir + "/metrics.jsonl", encoding: .utf8)) ?? "").split(separator: "\n")
                .count
        }

        /// The step of "stopped by signal S (NAME) at step N" in the run's train.log, and S.
        static func stop(in runDir: String) -> (signal: Int, step: Int)? {
            let log = (try? String(contentsOfFile: runDir + "/train.log", encoding: .utf8)) ?? ""
            let lines = log.split(separator: "\n")
            guard let line = lines.last(where: { $0.contains("stopped by signal") }) else { return nil }
            let words = line.split(separator: " ").map(String.init)
            guard let s = words.firstIndex(of: "signal"), let a = words.lastIndex(of: "step"), a + 1 < words.count,
                let signal = Int(words[s + 1]),
                let step = Int(words[a + 1].trimmingCharacters(in: .punctuationCharacters))
            else { return nil }
            return (signal, step)
        }

        /// The seconds the log gives for writing checkpoint `name` ("checkpoint written: PATH (S s)").
        static func writeSeconds(_ runDir: String, _ name: String) -> Double? {
            let log = (try? String(contentsOfFile: runDir + "/train.log", encoding: .utf8)) ?? ""
            let lines = log.split(separator: "\n")
            guard let line = lines.last(where: { $0.contains("checkpoint written: ") && $0.contains(name) }),
                let open = line.lastIndex(of: "(")
            else { return nil }
            return Double(line[line.index(after: open)...].split(separator: " ")[0])
        }

        /// `tandem inspect` verifies every file of `folder` and reports its step.
        static func inspect(_ folder: String) throws -> MPIRun {
            try MPIRun.launch(TrainEndToEndTests.tandem, ["inspect", folder], environment: [:], timeout: 60)
        }

        /// The checks after a stop: a whole checkpoint at the stop step, no process left, and a
        /// resume that finishes the run.
        static func expectStoppedAndResumable(_ runDir: String, steps: Int, settings: [String]) throws {
            let stop = try #require(Self.stop(in: runDir), "no stop in \(runDir)/train.log")
            let name = String(format: "step-%08d", stop.step)
            let latest = try String(contentsOfFile: runDir + "/checkpoints/latest", encoding: .utf8)
            #expect(latest.trimmingCharacters(in: .whitespacesAndNewlines) == name)
            let inspected = try inspect(runDir + "/checkpoints/" + name)
            #expect(inspected.status == 0, "\(inspected.stderr)")
            #expect(
                inspected.stdout.contains("all") && inspected.stdout.contains("files verified"), "\(inspected.stdout)")
            #expect(inspected.stdout.contains("step \(stop.step),"), "\(inspected.stdout)")
            #expect(Self.pids("^\(TrainEndToEndTests.tandem) train .*\(runDir)").isEmpty, "a rank outlived the job")
            let command =
                [
                    "mpirun", "-np", "2", "--oversubscribe", "--bind-to", "none", TrainEndToEndTests.tandem, "train",
                    packageRoot + "/configs/synthetic_smoke.yaml", "--run-dir", runDir,
                    "--resume", "auto",
                ] + settings
            let resumed = try MPIRun.launch(
                "/usr/bin/env", command, environment: ["TANDEM_NUM_THREADS": "1"], timeout: 600)
            #expect(resumed.status == 0, "\(resumed.stderr)")
            #expect(
                resumed.stdout.contains("resumed from") && resumed.stdout.contains("after \(steps) steps"),
                "\(resumed.stdout)")
        }

        /// SIGTERM to the mpirun that launch/local.sh started (what scancel and a cluster's preemption
        /// do): mpirun sends the ranks SIGCONT at once and SIGKILL after the grace, and exits 1 itself;
        /// the ranks stop at a step boundary with a whole checkpoint, and the script exits 75.
        @Test func sigtermToMpirunEndsWithACheckpointAnd75() throws {
            let runDir = NSTemporaryDirectory() + "tandem-preempt-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: runDir) }
            let job = try Job(
                [
                    packageRoot + "/launch/local.sh", "2", TrainEndToEndTests.tandem, "train",
                    packageRoot + "/configs/synthetic_smoke.yaml", "--run-dir", runDir,
                ] + Self.bigModel,
                environment: ["TANDEM_STOP_GRACE_SECONDS": "40"])
            #expect(Self.eventually(300) { Self.loggedSteps(runDir) >= 3 || !job.process.isRunning }, "no step logged")
            let mpirun = Self.pids("^mpirun .*\(runDir)")
            try #require(mpirun.count == 1, "mpirun of \(runDir): \(mpirun); \(job.stderr)")
            let signalled = Date()
            kill(mpirun[0], SIGTERM)
            let status = job.wait(timeout: 200)
            #expect(status == 75, "status \(String(describing: status)): \(job.stderr)")
            #expect(job.stderr.contains("exit status 75"), "\(job.stderr)")
            // mpirun's two waits (20 s each) always elapse: the job ends when the grace does.
            #expect(Date().timeIntervalSince(signalled) < 100, "the stop took \(Date().timeIntervalSince(signalled)) s")
            let stop = try #require(Self.stop(in: runDir))
            #expect(stop.signal == Int(SIGCONT), "stopped by signal \(stop.signal)")
            // The model is big enough that mpirun's default second of grace could not have saved it.
            let seconds = try #require(Self.writeSeconds(runDir, String(format: "step-%08d", stop.step)))
            #expect(seconds > 1, "the checkpoint took \(seconds) s")
            try Self.expectStoppedAndResumable(runDir, steps: 20, settings: Self.bigModel)
        }

        /// SIGTERM to every rank at once (a scheduler that signals the job's processes), and to every
        /// rank and mpirun together (scancel of a job that runs mpirun): both end with 75.
        @Test func sigtermToEveryRankEndsWith75() throws {
            let base = NSTemporaryDirectory() + "tandem-preempt-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: base) }
            for (index, alsoMpirun) in [false, true].enumerated() {
                let runDir = base + "/run\(index)"
                let job = try Job(
                    [
                        packageRoot + "/launch/local.sh", "2", TrainEndToEndTests.tandem, "train",
                        packageRoot + "/configs/synthetic_smoke.yaml", "--run-dir", runDir,
                    ] + Self.bigModel,
                    environment: ["TANDEM_STOP_GRACE_SECONDS": "40"])
                #expect(
                    Self.eventually(300) { Self.loggedSteps(runDir) >= 3 || !job.process.isRunning }, "no step logged")
                let ranks = Self.pids("^\(TrainEndToEndTests.tandem) train .*\(runDir)")
                let mpirun = Self.pids("^mpirun .*\(runDir)")
                try #require(ranks.count == 2 && mpirun.count == 1, "ranks \(ranks), mpirun \(mpirun): \(job.stderr)")
                for pid in ranks + (alsoMpirun ? mpirun : []) { kill(pid, SIGTERM) }
                let status = job.wait(timeout: 200)
                #expect(status == 75, "also mpirun: \(alsoMpirun); status \(String(describing: status)): \(job.stderr)")
                // With mpirun signalled too, its SIGCONT may reach a rank first; either stops it.
                let signal = Self.stop(in: runDir)?.signal ?? 0
                #expect(signal == Int(SIGTERM) || (alsoMpirun && signal == Int(SIGCONT)), "stopped by signal \(signal)")
                try Self.expectStoppedAndResumable(runDir, steps: 20, settings: Self.bigModel)
            }
        }

        /// A folder with a fake `swift` for launch/train.sh: `swift build` prints `output` and exits
        /// `status`; `--show-bin-path` names the folder of this build's tandem, as a stale build would.
        static func fakeSwift(output: String, status: Int32) throws -> String {
            let folder = NSTemporaryDirectory() + "tandem-fake-swift-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let bin = URL(fileURLWithPath: TrainEndToEndTests.tandem).deletingLastPathComponent().path
            try (output + "\n").write(toFile: folder + "/build-output", atomically: true, encoding: .utf8)
            let script = """
                #!/bin/bash
                case "$*" in
                    *--show-bin-path*) echo '\(bin)' ;;
                    *) cat '\(folder)/build-output'; exit \(status) ;;
                esac
                """
            try script.write(toFile: folder + "/swift", atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder + "/swift")
            return folder
        }

        /// PATH with `folder` first.
        static func pathWith(_ folder: String) -> String {
            folder + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        }

        /// Ctrl-C at the terminal of launch/train.sh (SIGINT to its foreground process group) stops
        /// the ranks through a SIGUSR1 to mpirun: a whole checkpoint and status 75, without mpirun's waits.
        @Test func ctrlCOnTrainShEndsWithACheckpointAnd75() throws {
            let runDir = NSTemporaryDirectory() + "tandem-preempt-\(UUID().uuidString)"
            let fake = try Self.fakeSwift(output: "Build of product 'tandem' complete!", status: 0)
            defer {
                try? FileManager.default.removeItem(atPath: runDir); try? FileManager.default.removeItem(atPath: fake)
            }
            let job = try Job(
                [
                    "/bin/bash", packageRoot + "/launch/train.sh", packageRoot + "/configs/synthetic_smoke.yaml",
                    "-np", "2", "--run-dir", runDir,
                ] + Self.bigModel,
                environment: ["PATH": Self.pathWith(fake), "TANDEM_STOP_GRACE_SECONDS": "200"],
                newSession: true)
            #expect(Self.eventually(300) { Self.loggedSteps(runDir) >= 3 || !job.process.isRunning }, "no step logged")
            // The script leads its own process group (setsid), never the test's, so the group can be signalled.
            let script = try #require(Self.pids("^/bin/bash .*launch/train.sh .*\(runDir)").first)
            try #require(getpgid(script) == script && getpgid(script) != getpgid(0))
            let signalled = Date()
            kill(-script, SIGINT)
            let status = job.wait(timeout: 300)
            #expect(status == 75, "status \(String(describing: status)): \(job.stderr)")
            // mpirun's own SIGINT handling would have waited 2 x 100 s.
            #expect(Date().timeIntervalSince(signalled) < 150, "the stop took \(Date().timeIntervalSince(signalled)) s")
            #expect(Self.stop(in: runDir)?.signal == Int(SIGUSR1))
            #expect(job.stdout.contains("stopped by signal \(SIGUSR1) (SIGUSR1)"), "\(job.stdout)")
            try Self.expectStoppedAndResumable(runDir, steps: 20, settings: Self.bigModel)
        }

        /// launch/train.sh stops with the compiler's error and status 1 when the build fails, even
        /// though an older binary is still in place; nothing is trained.
        @Test func trainShStopsWhenTheBuildFails() throws {
            let runDir = NSTemporaryDirectory() + "tandem-stale-\(UUID().uuidString)"
            let error = "/src/Sources/Training/Trainer.swift:12:5: error: cannot find 'brokenName' in scope"
            let fake = try Self.fakeSwift(output: error, status: 1)
            defer {
                try? FileManager.default.removeItem(atPath: runDir); try? FileManager.default.removeItem(atPath: fake)
            }
            let run = try MPIRun.launch(
                "/bin/bash",
                [
                    packageRoot + "/launch/train.sh",
                    packageRoot + "/configs/synthetic_smoke.yaml",
                    "-np", "1", "--run-dir", runDir, "--set", "training.max_steps=2",
                ],
                environment: ["PATH": Self.pathWith(fake)], timeout: 120)
            #expect(run.status == 1, "status \(run.status): \(run.stdout)")
            #expect(run.stderr.contains("cannot find 'brokenName' in scope"), "\(run.stderr)")
            #expect(
                run.stderr.contains("the release build failed") && run.stderr.contains("nothing was trained"),
                "\(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: runDir), "a stale binary trained")
        }

        /// No escape code reaches a pipe: mpirun gives every rank a pseudo-terminal, but the job's
        /// output here is a file, so `logging.progress: auto` prints plain lines.
        @Test func progressUnderMPIIsPlainWhenTheOutputIsNotATerminal() throws {
            let runDir = NSTemporaryDirectory() + "tandem-progress-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: runDir) }
            let run = try MPIRun.launch(
                "/usr/bin/env",
                [
                    "mpirun", "-np", "2", "--oversubscribe", "--bind-to", "none",
                    TrainEndToEndTests.tandem, "train",
                    packageRoot + "/configs/synthetic_smoke.yaml",
                    "--run-dir", runDir, "--set", "training.max_steps=20",
                    "--set", "logging.every_steps=5",
                ],
                environment: ["TANDEM_NUM_THREADS": "1"], timeout: 120)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(
                !run.stdout.contains("\u{1B}") && !run.stderr.contains("\u{1B}"),
                "escape codes: \(run.stdout.debugDescription)")
            // Plain progress: one line per logged step.
            #expect(
                run.stdout.split(separator: "\n").filter { $0.hasPrefix("epoch ") && $0.contains("step ") }.count == 4,
                "\(run.stdout)")
        }

        /// Writes a fake `srun` (records its arguments, then exits `FAKE_SRUN_STATUS`, or 75 on SIGTERM)
        /// and `scontrol` (records its arguments) into a folder for launch/slurm.sbatch.
        static func fakeSlurm() throws -> String {
            let folder = NSTemporaryDirectory() + "tandem-fake-slurm-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let srun = """
                #!/bin/bash
                echo "srun $$ $*" >> "\(folder)/calls"
                trap 'echo "srun got TERM" >> "\(folder)/calls"; exit 75' TERM
                for _ in $(seq 1 ${FAKE_SRUN_SECONDS:-0}0); do sleep 0.1; done
                exit ${FAKE_SRUN_STATUS:-0}
                """
            let scontrol = """
                #!/bin/bash
                echo "scontrol $*" >> "\(folder)/calls"
                """
            for (name, text) in [("srun", srun), ("scontrol", scontrol)] {
                try text.write(toFile: folder + "/" + name, atomically: true, encoding: .utf8)
                try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder + "/" + name)
            }
            return folder
        }

        /// launch/slurm.sbatch: status 75 after the time-limit signal requeues the job; a SIGTERM to
        /// the batch shell and the ranks (scancel, preemption) ends it with 75 and no requeue.
        @Test func slurmScriptRequeuesOnlyAfterTheTimeLimitSignal() throws {
            let fake = try Self.fakeSlurm()
            defer { try? FileManager.default.removeItem(atPath: fake) }
            let calls = { (try? String(contentsOfFile: fake + "/calls", encoding: .utf8)) ?? "" }
            let env = ["PATH": Self.pathWith(fake), "SLURM_JOB_ID": "4242", "SLURM_CPUS_PER_TASK": "3"]

            var timeLimit = env
            timeLimit["FAKE_SRUN_STATUS"] = "75"
            let sbatch = ["/bin/bash", packageRoot + "/launch/slurm.sbatch", "tandem", "train", "x.yaml"]
            let requeued = try MPIRun.launch(sbatch[0], Array(sbatch.dropFirst()), environment: timeLimit, timeout: 60)
            #expect(requeued.status == 0, "\(requeued.stderr)")
            #expect(
                calls().contains("srun") && calls().contains("--mpi=pmix --cpu-bind=none tandem train x.yaml"),
                "\(calls())")
            #expect(calls().contains("scontrol requeue 4242"), "\(calls())")
            #expect(requeued.stdout.contains("requeueing job 4242"))

            try? FileManager.default.removeItem(atPath: fake + "/calls")
            var cancelled = env
            cancelled["FAKE_SRUN_SECONDS"] = "60"
            let job = try Job(sbatch, environment: cancelled)
            #expect(Self.eventually(30) { calls().contains("srun ") })
            let srun = calls().split(separator: "\n").first { $0.hasPrefix("srun ") }
                .flatMap { pid_t($0.split(separator: " ")[1]) }
            // scancel signals every process of the job: the batch shell and the tasks' srun.
            kill(job.process.processIdentifier, SIGTERM)
            if let srun { kill(srun, SIGTERM) }
            let status = job.wait(timeout: 60)
            #expect(status == 75, "status \(String(describing: status)): \(job.stderr)")
            #expect(calls().contains("srun got TERM") && !calls().contains("scontrol"), "\(calls())")
            #expect(job.stdout.contains("not requeued here"), "\(job.stdout)")
        }

        /// launch/local.sh refuses a grace that is not a whole number of seconds, before starting anything.
        @Test func badGraceIsRefused() throws {
            let run = try MPIRun.launch(
                "/bin/bash", [packageRoot + "/launch/local.sh", "2", "/bin/true"],
                environment: ["TANDEM_STOP_GRACE_SECONDS": "1m"], timeout: 60)
            #expect(run.status == 2)
            #expect(
                run.stderr.contains("TANDEM_STOP_GRACE_SECONDS must be a whole number of seconds, 2 or more"),
                "\(run.stderr)")
        }
    }
}
