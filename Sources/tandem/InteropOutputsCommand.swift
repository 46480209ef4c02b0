import ArgumentParser
import Foundation
import Training

/// `tandem interop-outputs`: a run's model outputs on samples of its data, for
/// launch/interop/compare.py to check a PyTorch definition of the model against.
struct InteropOutputsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interop-outputs",
        abstract: "Write a run's inputs and model outputs as .npy files (for launch/interop/compare.py).",
        discussion: """
            The model is rebuilt from the run's config.yaml and the weights loaded from its model.safetensors \
            (or the file given); the first --count samples of the validation split go through it in evaluation \
            mode (DCGAN: latent vectors drawn from seed 0). --out receives inputs.npy, one .npy per output and \
            outputs.json. See docs/INTEROP.md.

            Exit status: 0 on success, 2 for a mistake in the command line or the run's config, 1 when it fails.
            """,
        shouldDisplay: false)

    @Argument(help: "A run directory, or a .safetensors file with the run's config.yaml beside it.") var path: String
    @Option(help: "The folder to write the files to.") var out: String
    @Option(help: "Samples to run through the model.") var count = 8
    @Option(
        name: .customLong("set"), parsing: .singleValue,
        help: ArgumentHelp("Override a key of the run's config (repeatable).", valueName: "key=value"))
    var overrides: [String] = []

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--count must be at least 1") }
    }

    func run() throws {
        let isFile = path.hasSuffix(".safetensors")
        let directory = isFile ? (path as NSString).deletingLastPathComponent : path
        let run = directory.isEmpty ? "." : directory
        do {
            let files = try ReferenceOutputs.write(
                runDirectory: run, weights: isFile ? path : run + "/model.safetensors", count: count, to: out,
                overrides: overrides)
            print("wrote \(files.joined(separator: ", "))")
        } catch let error as ConfigError {
            FileHandle.standardError.write(Data("tandem interop-outputs: \(error)\n".utf8))
            throw ExitCode(2)
        } catch {
            FileHandle.standardError.write(Data("tandem interop-outputs: \(JobFailure.text(error))\n".utf8))
            throw ExitCode(1)
        }
    }
}
