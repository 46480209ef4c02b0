import ArgumentParser

/// The Tandem command line.
struct Tandem: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tandem",
        abstract: "Data-parallel neural network training on CPUs over MPI.",
        version: TandemVersion.string,
        subcommands: [
            TrainCommand.self, ResumeCommand.self, EvalCommand.self, SampleCommand.self, ReportCommand.self,
            DoctorCommand.self, InspectCommand.self, InspectModelCommand.self, ExportCommand.self, QuantizeCommand.self,
            InfoCommand.self, PredictCommand.self, InteropOutputsCommand.self,
        ])
}

Tandem.main()
