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
    }
}
