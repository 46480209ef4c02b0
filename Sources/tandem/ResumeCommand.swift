import ArgumentParser
import Foundation
import Training

/// `tandem resume`: continue a run from its newest whole checkpoint.
struct ResumeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Continue a run from its newest whole checkpoint, with the run's own config.yaml.",
        discussion: """
            Equivalent to `tandem train RUN_DIR/config.yaml --run-dir RUN_DIR --resume auto`. Damaged \
            checkpoints are reported and skipped; a run without checkpoints starts from the beginning. \
            Run it alone or under mpirun, on any number of ranks: the data position is kept in samples.
            """)

    @Argument(help: "The run directory.") var runDir: String
    @Option(
        name: .customLong("set"), parsing: .singleValue,
        help: ArgumentHelp(
            "Override a config key (safe changes such as training.epochs or the schedule).", valueName: "key=value"))
    var overrides: [String] = []

    func run() throws {
        guard FileManager.default.fileExists(atPath: runDir + "/config.yaml") else {
            FileHandle.standardError.write(
                Data(
                    "tandem resume: \(runDir) is not a run directory (it has no config.yaml); give the --run-dir of a run that tandem train started\n"
                        .utf8))
            throw ExitCode(2)
        }
        try TrainCommand.train(config: runDir + "/config.yaml", overrides: overrides, runDir: runDir, resume: .auto)
    }
}
