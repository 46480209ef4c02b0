import Checkpoint
import Foundation
import Testing

/// Pruning, distillation and int8 quantization as a user runs them: `tandem train`, `tandem
/// quantize` and `tandem eval --int8`, real processes under mpirun.
extension MPIJobs {
    @Suite("Model compression end to end under mpirun", .serialized)
    struct CompressionEndToEndTests {
        typealias E2E = TrainEndToEndTests

        /// A distilled student pruned to 50% on 2 ranks of 16 logs what 1 rank of 32 logs (the soft
        /// and hard terms and the sparsity too), and ends with exactly half of its weights zero.
        @Test func prunedDistilledStudentTrainsDataParallel() throws {
            let base = NSTemporaryDirectory() + "tandem-compress-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: base) }
            let teacher = try E2E.train(
                ranks: 1, batch: 32, runDir: base + "/teacher", ["--set", "model.hidden_sizes=[64]"])
            #expect(teacher.status == 0, "\(teacher.stderr)")
            let student = [
                "--set", "distillation.teacher=\(base)/teacher", "--set", "distillation.temperature=2",
                "--set", "pruning.method=magnitude", "--set", "pruning.sparsity=0.5", "--set", "pruning.every_steps=6",
                "--set", "pruning.end_step=36", "--set", "model.hidden_sizes=[16]",
            ]
            let one = try E2E.train(ranks: 1, batch: 32, runDir: base + "/one", student)
            let two = try E2E.train(ranks: 2, batch: 16, runDir: base + "/two", student)
            #expect(one.status == 0 && two.status == 0, "\(one.stderr)\n\(two.stderr)")
            let steps1 = try E2E.metrics(base + "/one").filter { $0["split"] == nil },
                steps2 = try E2E.metrics(base + "/two").filter { $0["split"] == nil }
            #expect(steps1.count == 18 && steps2.count == 18)
            for (a, b) in zip(steps1, steps2) {
                for key in ["loss", "loss_soft", "loss_hard", "grad_norm", "sparsity"] {
                    let x = a[key] as! Double, y = b[key] as! Double
                    #expect(
                        Swift.abs(x - y) <= 1e-4 * Swift.max(1, Swift.abs(x)), "step \(a["step"]!) \(key): \(x) vs \(y)"
                    )
                }
            }
            // The schedule's last update (step 36) reaches 0.5 over the prunable weights; the soft term falls.
            #expect(steps2.last!["sparsity"] as! Double == 0.5)
            let soft = steps2.map { $0["loss_soft"] as! Double }
            #expect(soft.last! < soft.first!, "the student did not move towards the teacher: \(soft)")
            let weights = try E2E.weights(base + "/two")
            let pruned = ["hidden.0.weight", "output.weight"].flatMap { weights[$0]! }
            #expect(pruned.filter { $0 == 0 }.count == pruned.count / 2)
            // The last checkpoint holds the masks: zero exactly where the weights are.
            let checkpoints = try FileManager.default.contentsOfDirectory(atPath: base + "/two/checkpoints").filter {
                $0.hasPrefix("step-")
            }.sorted()
            let folder = base + "/two/checkpoints/" + checkpoints.last!
            let masks = try SafeTensors.decode(
                Data(contentsOf: URL(fileURLWithPath: folder + "/masks.safetensors")), name: "masks"
            ).tensors
            #expect(Set(masks.keys) == ["hidden.0.weight", "output.weight"])
            for (name, mask) in masks {
                #expect(zip(mask.scalars, weights[name]!).allSatisfy { ($0 == 0) == ($1 == 0) }, "\(name)")
            }
        }

        /// `tandem quantize` then `tandem eval --int8` (on two ranks): a quarter of the bytes, and
        /// the int8 model's test accuracy within 2 points of fp32's on this small problem.
        @Test func quantizedModelEvaluatesCloseToFloat() throws {
            let base = NSTemporaryDirectory() + "tandem-int8-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: base) }
            let run = try E2E.train(ranks: 1, batch: 32, runDir: base, ["--set", "model.hidden_sizes=[64, 32]"])
            #expect(run.status == 0, "\(run.stderr)")
            for calibration in ["minmax", "percentile"] {
                let q = try MPIRun.launch(
                    E2E.tandem, ["quantize", base, "--calibration", calibration, "--samples", "300"], environment: [:],
                    timeout: 60)
                #expect(
                    q.status == 0 && q.stdout.contains("wrote \(base)/model.int8.safetensors"), "\(q.stdout)\(q.stderr)"
                )
                let floatBytes =
                    try FileManager.default.attributesOfItem(atPath: base + "/model.safetensors")[.size] as! Int
                let intBytes =
                    try FileManager.default.attributesOfItem(atPath: base + "/model.int8.safetensors")[.size] as! Int
                // A quarter plus the header.
                #expect(Double(intBytes) < 0.4 * Double(floatBytes), "\(intBytes) vs \(floatBytes) bytes")
                func evaluate(_ extra: [String]) throws -> [String: Any] {
                    let e = try MPIRun.launch(
                        "/usr/bin/env",
                        ["mpirun", "-np", "2", "--oversubscribe", E2E.tandem, "eval", base, "--json"] + extra,
                        environment: ["TANDEM_NUM_THREADS": "1"], timeout: 60)
                    #expect(e.status == 0, "\(e.stderr)")
                    return try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as! [String: Any]
                }
                let fp32 = try evaluate([]), int8 = try evaluate(["--int8"])
                let (a, b) = (fp32["accuracy"] as! Double, int8["accuracy"] as! Double)
                #expect(a > 0.5 && Swift.abs(a - b) <= 0.02, "\(calibration): fp32 \(a), int8 \(b)")
                #expect(int8["samples"] as? Int == 128)
            }
        }

        /// What cannot be quantized, or has no int8 file yet, is one clear error.
        @Test func int8MistakesAreClearErrors() throws {
            let base = NSTemporaryDirectory() + "tandem-int8-bad-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: base) }
            let run = try E2E.train(ranks: 1, batch: 32, runDir: base, ["--set", "training.max_steps=2"])
            #expect(run.status == 0, "\(run.stderr)")
            let eval = try MPIRun.launch(E2E.tandem, ["eval", base, "--int8"], environment: [:], timeout: 60)
            #expect(
                eval.status != 0
                    && eval.stderr.contains(
                        "no int8 model at \(base)/model.int8.safetensors: make it with `tandem quantize"),
                "\(eval.stderr)")
            // A checkpoint folder quantizes its own weights, into the run directory.
            let latest = try String(contentsOfFile: base + "/checkpoints/latest", encoding: .utf8).trimmingCharacters(
                in: .whitespacesAndNewlines)
            let fromCheckpoint = try MPIRun.launch(
                E2E.tandem, ["quantize", base + "/checkpoints/" + latest], environment: [:], timeout: 60)
            #expect(
                fromCheckpoint.status == 0 && fromCheckpoint.stdout.contains("wrote \(base)/model.int8.safetensors"),
                "\(fromCheckpoint.stderr)")
            let bad = try MPIRun.launch(
                E2E.tandem, ["quantize", base, "--calibration", "entropy"], environment: [:], timeout: 60)
            #expect(
                bad.status != 0 && bad.stderr.contains("--calibration entropy is not one of minmax, percentile"),
                "\(bad.stderr)")
        }

        /// Trains a small run from `yaml` on one rank.
        static func trainYAML(_ yaml: String, runDir: String) throws -> MPIRun {
            try FileManager.default.createDirectory(atPath: runDir + "-config", withIntermediateDirectories: true)
            let path = runDir + "-config/config.yaml"
            try yaml.write(toFile: path, atomically: true, encoding: .utf8)
            return try MPIRun.launch(
                E2E.tandem, ["train", path, "--run-dir", runDir, "--set", "logging.progress=plain"],
                environment: ["TANDEM_NUM_THREADS": "1"], timeout: 300)
        }

        /// `tandem eval --json` of a run, fp32 or int8, on `ranks` ranks.
        static func evaluate(_ run: String, ranks: Int = 1, _ extra: [String] = []) throws -> [String: Any] {
            let e = try MPIRun.launch(
                "/usr/bin/env",
                ["mpirun", "-np", "\(ranks)", "--oversubscribe", E2E.tandem, "eval", run, "--json"] + extra,
                environment: ["TANDEM_NUM_THREADS": "1"], timeout: 120)
            #expect(e.status == 0, "\(e.stderr)")
            return (try? JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as? [String: Any]) ?? [:]
        }

        static let optimizer = "optimizer: {name: adam, lr: 0.01}\nlogging: {every_steps: 10}\n"

        /// A CNN with batch norm, the GPT and an LSTM, each trained briefly: `tandem quantize`
        /// writes the per-layer form, and `tandem eval --int8` (on two ranks) lands near fp32.
        @Test func zooModelsQuantizeAndEvaluate() throws {
            let base = NSTemporaryDirectory() + "tandem-int8-zoo-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: base) }
            try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
            let text = String(repeating: "to be or not to be, that is the question. ", count: 200)
            try text.write(toFile: base + "/text.txt", atomically: true, encoding: .utf8)
            let runs: [(name: String, yaml: String, sites: [String])] = [
                (
                    "resnet",
                    """
                    seed: 0
                    model: {name: resnet, channels: [8, 16], blocks: 1}
                    data:
                      name: synthetic
                      synthetic: {samples: 640, input_shape: [1, 12, 12], classes: 4, noise: 1.0, test_samples: 256}
                      batch_size: 32
                    training: {epochs: 2}

                    """, ["stem", "head"]
                ),
                (
                    "gpt",
                    """
                    seed: 0
                    model: {name: gpt, embedding_size: 16, layers: 1, heads: 2, position_encoding: learned}
                    data: {name: text, path: \(base)/text.txt, level: character, context: 16, targets: every,
                           validation_fraction: 0.1, batch_size: 8}
                    training: {epochs: 1, max_steps: 60, max_eval_samples: 64}

                    """, ["blocks.0"]
                ),
                (
                    "lstm",
                    """
                    seed: 0
                    model: {name: lstm, embedding_size: 8, hidden_size: 16, layers: 1, forget_bias: 1.0}
                    data:
                      name: memory
                      memory: {samples: 1024, length: 8, classes: 4, vocabulary: 8, test_samples: 256}
                      batch_size: 32
                    training: {epochs: 2}

                    """, [".input"]
                ),
            ]
            for run in runs {
                let dir = base + "/" + run.name
                let trained = try Self.trainYAML(run.yaml + Self.optimizer, runDir: dir)
                #expect(trained.status == 0, "\(run.name): \(trained.stderr)")
                let q = try MPIRun.launch(
                    E2E.tandem, ["quantize", dir, "--samples", "256"], environment: [:], timeout: 120)
                #expect(
                    q.status == 0 && q.stdout.contains("wrote \(dir)/model.int8.safetensors (layers)"),
                    "\(run.name): \(q.stdout)\(q.stderr)")
                for site in run.sites { #expect(q.stdout.contains(site), "\(run.name): no \(site) in \(q.stdout)") }
                let file = try SafeTensors.decode(
                    Data(contentsOf: URL(fileURLWithPath: dir + "/model.int8.safetensors")), name: "int8")
                #expect(file.metadata["format"] == "tandem-int8-layers" && file.metadata["model"] == run.name)
                #expect(file.tensors.values.contains { $0.dtype == .int8 })
                let fp32 = try Self.evaluate(dir), int8 = try Self.evaluate(dir, ranks: 2, ["--int8"])
                let (a, b) = (fp32["accuracy"] as? Double ?? -1, int8["accuracy"] as? Double ?? 2)
                let (la, lb) = (fp32["loss"] as? Double ?? -1, int8["loss"] as? Double ?? 1e9)
                #expect(Swift.abs(a - b) <= 0.05 && Swift.abs(la - lb) <= 0.1 * la, "\(run.name): \(fp32) vs \(int8)")
                #expect(fp32["samples"] as? Int == int8["samples"] as? Int)
            }
            // The fused form is only for the MLP and LeNet-5.
            let fused = try MPIRun.launch(
                E2E.tandem, ["quantize", base + "/resnet", "--form", "fused"], environment: [:], timeout: 60)
            #expect(
                fused.status == 2
                    && fused.stderr.contains(
                        "the fused int8 form covers model.name mlp and lenet5 with ReLU; "
                            + "quantize resnet with --form layers"),
                "\(fused.stderr)")
        }

        /// The MLP quantizes to the fused form by default (files written before per-layer int8
        /// keep evaluating), and to the per-layer form on request; both track fp32.
        @Test func mlpQuantizesInBothForms() throws {
            let base = NSTemporaryDirectory() + "tandem-int8-forms-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: base) }
            let run = try E2E.train(ranks: 1, batch: 32, runDir: base, ["--set", "model.hidden_sizes=[64, 32]"])
            #expect(run.status == 0, "\(run.stderr)")
            let fp32 = try Self.evaluate(base)["accuracy"] as? Double ?? -1
            for (form, format) in [("auto", "tandem-int8"), ("layers", "tandem-int8-layers")] {
                let q = try MPIRun.launch(
                    E2E.tandem, ["quantize", base, "--form", form, "--samples", "300"], environment: [:], timeout: 60)
                #expect(q.status == 0, "\(q.stderr)")
                let file = try SafeTensors.decode(
                    Data(contentsOf: URL(fileURLWithPath: base + "/model.int8.safetensors")), name: "int8")
                #expect(file.metadata["format"] == format)
                #expect(
                    Set(file.tensors.keys).isSuperset(of: ["hidden.0.weight", "hidden.0.input_scale", "output.bias"]))
                let int8 = try Self.evaluate(base, ["--int8"])["accuracy"] as? Double ?? 2
                #expect(Swift.abs(fp32 - int8) <= 0.02, "\(form): fp32 \(fp32), int8 \(int8)")
            }
            let bad = try MPIRun.launch(
                E2E.tandem, ["quantize", base, "--form", "packed"], environment: [:], timeout: 60)
            #expect(
                bad.status != 0 && bad.stderr.contains("--form packed is not one of auto, fused, layers"),
                "\(bad.stderr)")
            let unwritable = try MPIRun.launch(
                E2E.tandem, ["quantize", base, "--output", base + "/missing/int8.safetensors"], environment: [:],
                timeout: 60)
            #expect(
                unwritable.status == 1
                    && unwritable.stderr.contains("cannot write \(base)/missing/int8.safetensors: ")
                    && unwritable.stderr.contains("; choose a writable --output"), "\(unwritable.stderr)")
            // An int8 file of another run's model is refused with the fix.
            let other = try Self.trainYAML(
                """
                seed: 0
                model: {name: lenet5}
                data:
                  name: synthetic
                  synthetic: {samples: 64, input_shape: [1, 28, 28], classes: 4, test_samples: 32}
                  batch_size: 32
                training: {max_steps: 1}

                """ + Self.optimizer, runDir: base + "/lenet")
            #expect(other.status == 0, "\(other.stderr)")
            let wrong = try MPIRun.launch(
                E2E.tandem, ["eval", base + "/lenet/model.safetensors", "--int8"], environment: [:], timeout: 60)
            #expect(
                wrong.status != 0 && wrong.stderr.contains("is not an int8 model of this run's lenet5"),
                "\(wrong.stderr)")
            let e = try MPIRun.launch(
                E2E.tandem,
                [
                    "eval", base + "/model.int8.safetensors", "--int8", "--set", "model.name=lenet5",
                    "--set", "data.synthetic.input_shape=[1, 28, 28]",
                ], environment: [:], timeout: 60)
            #expect(
                e.status != 0
                    && e.stderr.contains(
                        "is not an int8 model of this run's lenet5 (format tandem-int8-layers, model mlp)"),
                "\(e.stderr)")
        }
    }
}
