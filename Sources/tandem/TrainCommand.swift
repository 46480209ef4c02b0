import ArgumentParser
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
        let outcome = TrainingJob(config: resolved, runDirectory: directory, resume: resume, command: "tandem train")
            .run()
        if outcome.exitStatus != 0 { throw ExitCode(outcome.exitStatus) }
    }

    static func defaultRunDirectory(config: String) -> String {
        let stem = URL(fileURLWithPath: config).deletingPathExtension().lastPathComponent
        let f = DateFormatter()
        f.dateFormat = "yyyyMMdd-HHmmss"
        return "runs/\(stem)-\(f.string(from: Date()))"
    }
}
