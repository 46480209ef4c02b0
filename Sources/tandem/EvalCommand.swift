import ArgumentParser
import Collective
import Foundation
import Models
import Training

/// `tandem eval`: the metrics of a trained model on one split.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a trained model (a run directory or its model.safetensors) on a data split.",
        discussion: """
            The model and data are rebuilt from the run's config.yaml, and the weights loaded from \
            model.safetensors. Under mpirun the split is shared among the ranks and the metrics reduced. \
            Prints accuracy, top-k accuracy, macro precision, recall and F1, ROC-AUC and the loss; --json \
            prints one JSON object with the per-class figures and the confusion matrix too.
            """)

    enum Split: String, ExpressibleByArgument, CaseIterable { case train, validation, test }

    @Argument(
        help: "A run directory, or a .safetensors file (with --int8 an int8 one) with the run's config.yaml beside it.")
    var path: String
    @Option(help: "The split to evaluate: train, validation or test (datasets without a test split use validation).")
    var split: Split = .test
    @Option(
        name: .customLong("set"), parsing: .singleValue,
        help: ArgumentHelp(
            "Override a key of the run's config, e.g. --set data.directory=/data (repeatable).", valueName: "key=value")
    )
    var overrides: [String] = []
    @Flag(help: "Print one JSON object.") var json = false
    @Flag(
        help:
            "Evaluate the run's int8 model (model.int8.safetensors, made by `tandem quantize`) instead of the fp32 one."
    )
    var int8 = false

    func run() throws {
        let isDirectory = !path.hasSuffix(".safetensors")
        let directory = isDirectory ? path : (path as NSString).deletingLastPathComponent
        let weights = isDirectory ? directory + "/model.safetensors" : path
        let configPath = (directory.isEmpty ? "." : directory) + "/config.yaml"
        let config: TrainConfig
        do {
            config = try ConfigLoader.load(path: configPath, overrides: overrides)
        } catch {
            FileHandle.standardError.write(
                Data("tandem eval: \(error) (a run directory holds config.yaml and model.safetensors)\n".utf8))
            throw ExitCode(2)
        }
        let comm: Communicator = MPICommunicator.launchedByMPI ? MPICommunicator() : SingleProcessCommunicator()
        JobFailure.reportAllocationFailures(comm, command: "tandem eval")
        let metrics: EvaluationMetrics
        var used = split
        do {
            let data: DataSplits, model: any TrainableModel
            if int8 {
                (model, _, data) = try Int8ModelFile.load(
                    runDirectory: directory.isEmpty ? "." : directory,
                    file: isDirectory ? nil : path, overrides: overrides)
            } else {
                data = try DataSplits.load(config.data, seed: config.seed)
                model = try ModelFactory.make(config.model, for: data.train, seed: config.seed)
                try ModelWeights.load(model, from: weights)
            }
            if used == .test && data.test == nil { used = .validation }
            let dataset = used == .train ? data.train : used == .validation ? data.validation : data.test!
            metrics = Evaluator.evaluate(
                model, on: dataset, communicator: comm, batchSize: max(config.data.batchSize, 256),
                topK: config.training.topK)
        } catch let error as ConfigError {
            JobFailure.endTogether(comm, "tandem eval: \(error)", status: 2)
        } catch {
            JobFailure.fail(comm, "tandem eval: \(JobFailure.text(error))")
        }
        if comm.rank == 0 {
            if json {
                let object = metrics.json(split: used.rawValue, step: 0, epoch: 0, detailed: true)
                    .filter { $0.key != "step" && $0.key != "epoch" }.mapValues(MetricsWriter.jsonSafe)
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else if let r = metrics.regression {
                print("\(used.rawValue): \(metrics.samples) samples")
                print(
                    String(
                        format: "loss %.4f, mae %.4f, mse %.4f, rmse %.4f, r2 %.4f", metrics.loss, r.mae, r.mse, r.rmse,
                        r.r2))
            } else if !metrics.isClassification {
                print("\(used.rawValue): \(metrics.samples) samples")
                print(String(format: "loss %.4f", metrics.loss))
            } else {
                print("\(used.rawValue): \(metrics.samples) samples")
                print(
                    String(
                        format: "accuracy %.4f, loss %.4f, perplexity %.3f", metrics.accuracy, metrics.loss,
                        metrics.perplexity))
                if let top = metrics.topKAccuracy { print(String(format: "top-%d accuracy %.4f", metrics.topK, top)) }
                print(
                    String(
                        format: "precision %.4f, recall %.4f, F1 %.4f (macro)", metrics.precisionMacro,
                        metrics.recallMacro, metrics.f1Macro))
                if let auc = metrics.rocAUC { print(String(format: "ROC-AUC %.4f (macro, one-vs-rest)", auc)) }
                if let exact = metrics.exactMatch {
                    print(String(format: "exact match %.4f (every target of a sample right)", exact))
                }
            }
        }
        (comm as? MPICommunicator)?.finalize()
    }
}
