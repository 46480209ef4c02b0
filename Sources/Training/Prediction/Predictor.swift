import Datasets
import Foundation
import Models
import NN

/// Runs a trained run's model on new inputs: a classifier's logits, a regressor's values or a
/// language model's continuation of a prompt.
public struct Predictor {
    /// What the model does with an input.
    public enum Kind: Equatable {
        case classifier, regressor, languageModel
    }

    public let run: TrainedRun
    public let kind: Kind
    public let encoder: InputEncoder

    /// - Parameter run: the trained run.
    /// - Throws: `PredictionMistake` for a model that neither classifies, regresses nor generates
    ///   text, or a language model whose data has no text vocabulary.
    public init(run: TrainedRun) throws {
        self.run = run
        encoder = InputEncoder(run: run)
        if run.model is any TextGenerator {
            guard run.data.corpus != nil else {
                throw PredictionMistake(
                    "the run's data has no text vocabulary (token files keep only ids), so a prompt cannot be "
                        + "encoded; predict with a run trained on data.name text or shakespeare_char")
            }
            kind = .languageModel
        } else if run.model is any Classifier {
            kind = .classifier
        } else if run.model is any Regressor {
            kind = .regressor
        } else {
            throw PredictionMistake(
                "\(run.path) holds \(run.described), which neither classifies, regresses nor generates text; "
                    + "tandem predict works with the classifiers, the regressors and the language models")
        }
    }

    /// Checks that the inputs are of the kind the model reads: files for classifiers and
    /// regressors, prompts for language models.
    /// - Parameters:
    ///   - files: the paths given.
    ///   - prompts: the `--prompt` texts given.
    /// - Throws: `PredictionMistake` naming what was given and what the model needs.
    public func check(files: [String], prompts: [String]) throws {
        if kind == .languageModel {
            if let file = files.first {
                throw PredictionMistake(
                    "\(run.path) holds a language model (\(run.described)): it continues a text prompt, not "
                        + "\(Self.kindOfFile(file)) (\(file)); give the text with --prompt TEXT")
            }
            guard !prompts.isEmpty else {
                throw PredictionMistake(
                    "\(run.path) holds a language model (\(run.described)); give the text to continue with "
                        + "--prompt TEXT")
            }
        } else {
            guard prompts.isEmpty else {
                throw PredictionMistake(
                    "--prompt is for language models, but \(run.path) holds \(run.described), which reads "
                        + "\(encoder.reads); give \(encoder.gives)")
            }
            guard !files.isEmpty else {
                throw PredictionMistake("no inputs: give \(encoder.gives) after the run directory")
            }
        }
    }

    /// A file's kind in words, by its extension.
    static func kindOfFile(_ path: String) -> String {
        let ext = (path as NSString).pathExtension.lowercased()
        if ImageDecoder.fileExtensions.contains(ext) { return "an image" }
        if ext == "csv" { return "a CSV table" }
        if ext == "npy" { return "a NumPy array" }
        return "a file"
    }

    /// The names of a regressor's outputs: the table's target columns, or `output 0`, `output 1`, ...
    public var targetNames: [String] {
        let count = run.data.train.targetWidth
        if let names = run.data.tableStatistics?.targets, names.count == count { return names }
        return (0..<count).map { "output \($0)" }
    }

    /// The model's outputs for `inputs`, in order.
    /// - Parameters:
    ///   - inputs: files' samples (for classifiers and regressors).
    ///   - batchSize: samples run through the model at once.
    /// - Throws: `PredictionMistake` for an input that cannot be read or does not fit the model.
    public func predict(_ inputs: ArraySlice<PredictionInput>, batchSize: Int = 64) throws -> [Prediction] {
        var predictions: [Prediction] = []
        let names = run.classNames, targets = targetNames
        for start in stride(from: inputs.startIndex, to: inputs.endIndex, by: batchSize) {
            let chunk = inputs[start..<min(start + batchSize, inputs.endIndex)]
            let x = try encoder.batch(chunk)
            let (rows, width, values): (Int, Int, [Float]) = withNoGrad {
                let y = (run.model as? any Classifier)?.logits(x) ?? (run.model as! any Regressor).predictions(x)
                return (y.shape[0], y.shape.count / y.shape[0], y.values.scalars)
            }
            guard rows == chunk.count else {
                throw PredictionMistake(
                    "\(run.described) makes \(rows / chunk.count) predictions per sample (one per position); "
                        + "tandem predict prints one prediction per input")
            }
            for (k, input) in chunk.enumerated() {
                let row = Array(values[(k * width)..<((k + 1) * width)])
                let output: Prediction.Output =
                    kind == .classifier
                    ? .classes(logits: row, names: names.count == width ? names : (0..<width).map { "class \($0)" })
                    : .values(row, names: targets.count == width ? targets : (0..<width).map { "output \($0)" })
                predictions.append(Prediction(input: input.name, output: output))
            }
        }
        return predictions
    }

    /// Continues each prompt; prompt `i` (of the whole list) draws from seed `seed + i`, so a prompt's
    /// text does not depend on which process generates it.
    /// - Parameters:
    ///   - prompts: the texts, with their indices in the whole list.
    ///   - length: tokens to generate.
    ///   - temperature: divides the logits; 0 takes the likeliest token.
    ///   - topK: sample among the k likeliest tokens (nil: all).
    ///   - seed: the first prompt's seed.
    /// - Throws: `PredictionMistake` for a prompt with symbols the training text lacks.
    public func generate(
        _ prompts: ArraySlice<String>, length: Int, temperature: Float, topK: Int?, seed: UInt64
    ) throws -> [Prediction] {
        guard let generator = run.model as? any TextGenerator, let corpus = run.data.corpus else { return [] }
        return try zip(prompts.indices, prompts).map { index, prompt in
            let ids = try PromptEncoder.encode(prompt, corpus: corpus)
            var rng = PhiloxRNG(seed: seed &+ UInt64(index))
            let tokens = generator.generate(
                prompt: ids, count: length, temperature: temperature, topK: topK, rng: &rng)
            return Prediction(
                input: prompt, output: .text(prompt: prompt, generated: corpus.decode(tokens), tokens: tokens))
        }
    }
}
