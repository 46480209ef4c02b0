import ArgumentParser
import Autograd
import Foundation
import Models
import TensorCore
import Training

/// `tandem-bench inference`: a trained run's fp32 model against its int8 model, batch by batch.
struct InferenceBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inference",
        abstract: "Time inference of a run's fp32 model and of its int8 model (tandem quantize) on a test batch.",
        discussion:
            "Both first run the same batch; the benchmark stops if a classifier's int8 model agrees with fp32 on "
            + "fewer than 90% of its samples, or another model's int8 loss is more than 10% off."
    )

    @Option(
        name: .customLong("run"), help: "A finished run directory with model.safetensors and model.int8.safetensors.")
    var runDirectory: String
    @Option(
        name: .customLong("int8"),
        help: "The int8 file to time (default: RUN/model.int8.safetensors; e.g. one written by --form layers).")
    var int8File: String?
    @Option(help: "Samples per batch.") var batch = 256
    @Option(help: "Threads.") var threads = 1
    @Option(help: "Timed runs of each model.") var runs = 30
    @Flag(help: "Print one JSON object instead of text.") var json = false

    func validate() throws {
        guard batch >= 1, threads >= 1, runs >= 1 else {
            throw ValidationError("--batch, --threads and --runs must be positive")
        }
    }

    func run() throws {
        ThreadPool.configure(threads: threads)
        let (config, data, model) = try Int8ModelFile.loadRun(
            runDirectory, weights: runDirectory + "/model.safetensors")
        let int8 = try Int8ModelFile.open(
            int8File ?? runDirectory + "/" + Int8ModelFile.name, config: config, train: data.train)
        let split = data.test ?? data.validation
        let batch = split.batch(ArraySlice(0..<min(self.batch, split.count)))
        let inputs = batch.inputs, n = inputs.shape[0]
        // Classifiers are timed on their logits and must pick the same classes; other models
        // on their loss, which must stay within 10%.
        let forward: (any TrainableModel) -> Void
        var agreement = 1.0
        if let fp32 = model as? any Classifier, let quantized = int8 as? any Classifier {
            func classes(_ logits: NDArray) -> [Int] {
                let c = logits.shape[logits.rank - 1], v = logits.scalars
                return (0..<logits.count / c).map { i in (0..<c).max { v[i * c + $0] < v[i * c + $1] }! }
            }
            let a = classes(withNoGrad { fp32.logits(inputs).values })
            let b = classes(withNoGrad { quantized.logits(inputs).values })
            agreement = Double(zip(a, b).filter { $0 == $1 }.count) / Double(a.count)
            guard agreement >= 0.9 else {
                throw ValidationError("the int8 model agrees with fp32 on only \(agreement) of the batch")
            }
            forward = { m in _ = withNoGrad { (m as! any Classifier).logits(inputs) } }
        } else {
            func loss(_ m: any TrainableModel) -> Float {
                withNoGrad { m.loss(inputs: inputs, targets: batch.targets, labelSmoothing: 0).values.item }
            }
            let (a, b) = (loss(model), loss(int8))
            guard Swift.abs(a - b) <= 0.1 * Swift.abs(a) else {
                throw ValidationError("the int8 model's loss \(b) is more than 10% from fp32's \(a) on the batch")
            }
            forward = { m in _ = loss(m) }
        }
        let fp32Ms = Stopwatch.medianMs(warmup: 3, runs: runs) { forward(model) }
        let int8Ms = Stopwatch.medianMs(warmup: 3, runs: runs) { forward(int8) }
        if json {
            print(
                #"{"bench":"inference","model":"\#(config.model.name)","batch":\#(n),"threads":\#(threads),"fp32_ms":\#(fp32Ms),"int8_ms":\#(int8Ms),"speedup":\#(fp32Ms / int8Ms),"agreement":\#(agreement)}"#
            )
        } else {
            print(
                String(
                    format:
                        "%@ batch %d, %d threads: fp32 %.3f ms (%.0f samples/s), int8 %.3f ms (%.0f samples/s): %.2fx; top-1 agreement %.4f",
                    config.model.name.rawValue, n, threads, fp32Ms, Double(n) / fp32Ms * 1e3, int8Ms,
                    Double(n) / int8Ms * 1e3,
                    fp32Ms / int8Ms, agreement))
        }
    }
}
