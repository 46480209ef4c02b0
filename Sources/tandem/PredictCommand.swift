import ArgumentParser
import Collective
import Foundation
import Training

/// `tandem predict`: a trained model's predictions on new images, table rows, arrays or prompts.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict with a trained model (a run directory or a checkpoint folder) on new inputs.",
        discussion: """
            Classifiers print the likeliest classes with their names and probabilities, regressors \
            their values by target column, language models (--prompt) the generated text. Inputs are \
            encoded as the run's data was: images converted to its channels, resized and normalised \
            with its statistics; CSV rows with its table statistics (the target column may be absent); \
            .npy arrays hold one sample or a batch. Under mpirun the inputs are shared among the ranks \
            and rank 0 prints every result in input order. docs/PREDICT.md has the details.

            Exit status: 0 on success, 2 for a mistake in the command line, the inputs or the run's config, \
            1 when it fails.
            """)

    @Argument(help: "A run directory, a checkpoint folder (RUN/checkpoints/NAME) or a .safetensors file.")
    var path: String
    @Argument(help: "Images (.png, .jpg, .jpeg) or folders of them, CSV files (.csv) or NumPy arrays (.npy).")
    var inputs: [String] = []
    @Option(help: "Text for a language model to continue (repeatable).") var prompt: [String] = []
    @Option(
        help: """
            Classes to print (default 5, or the class count); for a language model, sample among the k \
            likeliest tokens (default all).
            """)
    var topK: Int?
    @Option(help: "Tokens a language model generates per prompt.") var length = 200
    @Option(help: "Divides a language model's logits: below 1 is more conservative, 0 takes the likeliest token.")
    var temperature: Float = 0.8
    @Option(help: "Seed of the sampling stream (prompt i uses seed + i).") var seed: UInt64 = 0
    @Flag(help: "Print one JSON object per input.") var json = false
    @Option(
        name: .customLong("set"), parsing: .singleValue,
        help: ArgumentHelp(
            "Override a key of the run's config, e.g. --set data.directory=/data (repeatable).",
            valueName: "key=value"))
    var overrides: [String] = []

    func validate() throws {
        guard length >= 1 else { throw ValidationError("--length must be at least 1") }
        guard temperature >= 0 else { throw ValidationError("--temperature must be 0 or more") }
        if let topK, topK < 1 { throw ValidationError("--top-k must be at least 1") }
    }

    func run() throws {
        let comm: Communicator = MPICommunicator.launchedByMPI ? MPICommunicator() : SingleProcessCommunicator()
        JobFailure.reportAllocationFailures(comm, command: "tandem predict")
        // Every rank reaches the gather, with its results or its error, so a mistake found by one
        // rank (a damaged image in its share) ends every rank with the same status and no hang.
        var mine: String
        do {
            mine = "OK\t" + (try predictShare(comm))
        } catch {
            mine = "ERROR\t\(JobFailure.status(of: error))\t\(JobFailure.text(error))"
        }
        let all = comm.allgather(mine)
        if let failure = all.first(where: { $0.hasPrefix("ERROR\t") }) {
            let parts = failure.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
            if comm.rank == 0 { FileHandle.standardError.write(Data("tandem predict: \(parts[2])\n".utf8)) }
            (comm as? MPICommunicator)?.finalize()
            throw ExitCode(Int32(parts[1]) ?? 1)
        }
        if comm.rank == 0 {
            let parts = all.map { String($0.dropFirst(3)) }.filter { !$0.isEmpty }
            print(parts.joined(separator: json ? "\n" : separator))
        }
        (comm as? MPICommunicator)?.finalize()
    }

    /// Between two results in text: a blank line, so multi-line results stay apart.
    var separator: String { "\n\n" }

    /// This rank's results, rendered: the share of the inputs (or prompts) that falls to it.
    func predictShare(_ comm: Communicator) throws -> String {
        let run = try TrainedRun.open(path, overrides: overrides)
        let predictor = try Predictor(run: run)
        try predictor.check(files: inputs, prompts: prompt)
        let predictions: [Prediction]
        if predictor.kind == .languageModel {
            predictions = try predictor.generate(
                prompt[share(of: prompt.count, comm)], length: length, temperature: temperature, topK: topK,
                seed: seed)
        } else {
            let all = try PredictionInput.expand(inputs, sampleShape: predictor.encoder.sampleShape)
            predictions = try predictor.predict(all[share(of: all.count, comm)])
        }
        let shown = topK ?? min(5, run.data.train.classCount)
        let rendered = try predictions.map { json ? try $0.jsonLine(topK: shown) : $0.text(topK: shown) }
        return rendered.joined(separator: json ? "\n" : separator)
    }

    /// The contiguous part of `count` items that falls to this rank (ranks in order, so gathering
    /// them in rank order gives the input order).
    func share(of count: Int, _ comm: Communicator) -> Range<Int> {
        let per = count / comm.size, extra = count % comm.size
        let start = comm.rank * per + min(comm.rank, extra)
        return start..<(start + per + (comm.rank < extra ? 1 : 0))
    }
}
