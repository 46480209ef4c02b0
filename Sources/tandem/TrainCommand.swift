import ArgumentParser
import CSupport
import Collective
import Foundation
import Training

/// `tandem train`: one training run, alone or as every rank under mpirun.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the model a YAML config describes, on one process or on every rank under mpirun.",
        discussion: """
            Every rank runs this same command: `mpirun -np 4 tandem train configs/lenet5_fmnist.yaml`. Rank 0 \
            writes the run directory: config.yaml (as resolved, every default filled in), metrics.jsonl (one JSON \
            object per logged step and per evaluation), train.log, and model.safetensors at the end. The global \
            batch is data.batch_size x ranks x distributed.gradient_accumulation. See docs/CONFIG.md for every key.

            SIGTERM, SIGINT or SIGUSR1 on any rank stops every rank at the next step boundary; rank 0 \
            writes a checkpoint and the job exits with status 75. mpirun forwards SIGUSR1 to every rank and \
            then exits 75. Sent SIGTERM or SIGINT (scancel, Ctrl-C), Open MPI 4.1's mpirun sends the ranks \
            SIGCONT (Tandem stops on it too), SIGTERM after odls_base_sigkill_timeout seconds, SIGKILL after as \
            many again, and exits 1. The default timeout, 1 s, is too short for a checkpoint: run plain mpirun \
            with `--mca odls_base_sigkill_timeout 30` (or OMPI_MCA_odls_base_sigkill_timeout=30) to give the \
            ranks 60 s. The launch scripts (launch/train.sh, local.sh, multinode.sh) set it from \
            TANDEM_STOP_GRACE_SECONDS (default 60) and exit 75 in every case: rank 0 writes 75 into the file \
            TANDEM_EXIT_STATUS_FILE names once its checkpoint is whole. See docs/CHECKPOINTS.md.

            Exit status: 0 on success, 2 for a bad config or command line, 1 when training fails, \
            75 when stopped by a signal after writing a checkpoint (resume with `tandem resume RUN_DIR`); \
            with TANDEM_EXIT_STATUS_FILE set, 0 after such a stop, the 75 being in that file.
            """)

    @Argument(help: "The YAML config (configs/*.yaml).") var config: String
    @Option(
        name: .customLong("set"), parsing: .singleValue,
        help: ArgumentHelp(
            "Override a config key, e.g. --set optimizer.lr=0.05 (repeatable; the value is YAML).",
            valueName: "key=value"))
    var overrides: [String] = []
    @Option(help: "The run directory (default: runs/<config name>-<date>-<time>, or the run being resumed).")
    var runDir: String?
    @Option(
        help: ArgumentHelp(
            "Continue from a checkpoint: auto (the newest whole one in --run-dir; a fresh start if none), "
                + "or a checkpoint folder or run directory.", valueName: "auto|path"))
    var resume: String?

    func run() throws {
        try Self.train(config: config, overrides: overrides, runDir: runDir, resume: resume.map(ResumeSource.init))
    }

    /// Parses the config, starts the world, trains, and reports; shared with `tandem resume`.
    static func train(config: String, overrides: [String], runDir: String?, resume: ResumeSource?) throws {
        let isRoot = (ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_RANK"] ?? "0") == "0"
        let resolved: TrainConfig
        do {
            resolved = try ConfigLoader.load(path: config, overrides: overrides)
        } catch {
            // Every rank reads the same file and fails the same way; one report is enough.
            if isRoot { FileHandle.standardError.write(Data("tandem train: \(error)\n".utf8)) }
            throw ExitCode(2)
        }
        var inferred: String?
        if case .path(let p)? = resume, FileManager.default.fileExists(atPath: p + "/checkpoints") { inferred = p }
        if resume == .auto && runDir == nil {
            if isRoot {
                FileHandle.standardError.write(
                    Data("tandem train: --resume auto needs --run-dir (the run to continue)\n".utf8))
            }
            throw ExitCode(2)
        }
        let directory = runDir ?? inferred ?? Self.defaultRunDirectory(config: config)
        let comm: Communicator =
            MPICommunicator.launchedByMPI
            ? MPICommunicator(startupTimeout: resolved.distributed.startupTimeoutSeconds) : SingleProcessCommunicator()
        JobFailure.reportAllocationFailures(comm, command: "tandem train")
        JobFailure.requireSameConfig(comm, resolved, command: "tandem train")
        if let problem = WorldSizeCheck.problem(resolved, worldSize: comm.size) {
            JobFailure.endTogether(comm, "tandem train: \(ConfigError(problem))", status: 2)
        }
        tandem_install_stop_handlers()
        let result: TrainResult
        do {
            result = try Trainer(config: resolved, runDirectory: directory, communicator: comm, resume: resume).run()
        } catch let error as ConfigError {
            // Config errors found while the trainer is built (pruning, distillation, init_from)
            // come from the config every rank shares: said once, with the config status.
            JobFailure.endTogether(comm, "tandem train: \(error)", status: 2)
        } catch {
            fail(comm, "tandem train: \(JobFailure.text(error))")
        }
        var recorded = false
        if comm.rank == 0 {
            if let m = result.final {
                let figures =
                    if let r = m.regression {
                        String(format: "r2 %.4f, rmse %.4f, mae %.4f (loss %.4f)", r.r2, r.rmse, r.mae, m.loss)
                    } else if m.isClassification {
                        String(format: "accuracy %.4f (loss %.4f)", m.accuracy, m.loss)
                    } else {
                        String(format: "loss %.4f", m.loss)
                            + (m.classifierScore.map { String(format: ", classifier score %.3f", $0) } ?? "")
                    }
                print(
                    String(
                        format: "%@ %@ after %d steps%@", result.finalSplit, figures, result.steps,
                        result.stoppedEarly ? ", stopped early" : ""))
            }
            print("run directory: \(result.runDirectory ?? directory)")
            if let signal = result.stoppedBySignal {
                let name = stopSignalName(signal)
                let run = result.runDirectory ?? directory
                print(
                    "stopped by signal \(signal) (\(name)) after step \(result.steps); "
                        + "resume with: tandem resume \(run)")
                recorded = ExitStatusFile.record(
                    preemptedExitCode,
                    reason: "stopped by signal \(signal) (\(name)) "
                        + "after step \(result.steps) with a whole checkpoint in \(run)")
            }
        }
        if result.stoppedBySignal != nil && tandem_launcher_ending() != 0 {
            // mpirun is ending the job and its runtime no longer answers: MPI_Finalize would only
            // wait for its SIGKILL. The checkpoint is whole, so leave now with the stop's status.
            fflush(stdout)
            Foundation.exit(preemptedExitCode)
        }
        (comm as? MPICommunicator)?.finalize()
        if result.stoppedBySignal != nil {
            // A rank that exits non-zero while others still run makes mpirun end them with its
            // SIGCONT/SIGTERM/SIGKILL sequence and its waits (long under the launch scripts). When
            // the launcher reads the status from the file, the ranks leave with 0 and it reports 75.
            if ExitStatusFile.path != nil && (comm.rank != 0 || recorded) { Foundation.exit(0) }
            throw ExitCode(preemptedExitCode)
        }
    }

    static func defaultRunDirectory(config: String) -> String {
        let stem = URL(fileURLWithPath: config).deletingPathExtension().lastPathComponent
        let f = DateFormatter()
        f.dateFormat = "yyyyMMdd-HHmmss"
        return "runs/\(stem)-\(f.string(from: Date()))"
    }
}

/// The exit status of a run stopped by a signal after its checkpoint (sysexits' EX_TEMPFAIL:
/// try again later, which is what a scheduler's requeue does).
let preemptedExitCode: Int32 = 75

/// A stop signal's name, and for SIGCONT who sent it.
/// - Parameters:
///   - signal: the signal number that stopped the run.
func stopSignalName(_ signal: Int32) -> String {
    switch signal {
    case SIGTERM: return "SIGTERM"
    case SIGINT: return "SIGINT"
    case SIGUSR1: return "SIGUSR1"
    case SIGCONT: return "SIGCONT: mpirun was sent SIGTERM or SIGINT and is ending the job"
    default: return "signal \(signal)"
    }
}

/// Reports `message` and ends the job: every rank when under mpirun, so none is left waiting.
func fail(_ comm: Communicator, _ message: String) -> Never {
    if comm.size > 1 { comm.abort(message) }
    FileHandle.standardError.write(Data("\(message)\n".utf8))
    Foundation.exit(1)
}
