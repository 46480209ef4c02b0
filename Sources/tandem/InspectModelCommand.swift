import ArgumentParser
import Foundation
import Training

/// `tandem inspect-model`: the layer table of the model a config builds.
struct InspectModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect-model",
        abstract: "Print the layers of the model a config builds, with output shapes and parameter counts.",
        discussion: """
            Loads the config and its training data, builds the model as `tandem train` does (every shape \
            of a model.name sequential checked first) and runs one sample through it in evaluation mode. \
            Prints one row per module, depth first: its name, type, output shape (batch axis first) and \
            parameters, then the totals. Exits 2 on a config or model mistake, with the message.
            """)

    @Argument(help: "The YAML config.") var config: String
    @Option(
        name: .customLong("set"), parsing: .singleValue,
        help: ArgumentHelp(
            "Override a config key, e.g. --set model.activation=gelu (repeatable).", valueName: "key=value"))
    var overrides: [String] = []

    func run() throws {
        do {
            let resolved = try ConfigLoader.load(path: config, overrides: overrides)
            let data = try DataSplits.load(resolved.data, seed: resolved.seed)
            let model = try ModelFactory.make(resolved.model, for: data.train, seed: resolved.seed)
            print(ModelSummary.make(model, data: data.train).table(title: resolved.model.name.rawValue))
        } catch {
            FileHandle.standardError.write(Data("tandem inspect-model: \(JobFailure.text(error))\n".utf8))
            throw ExitCode(JobFailure.status(of: error))
        }
    }
}
