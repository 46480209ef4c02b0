import Foundation
import Testing

/// A program of one's own training through the library (`TrainingJob` with the data and the model
/// it builds) against `tandem train`: real processes under mpirun.
extension MPIJobs {
    @Suite("the library path under mpirun", .serialized)
    struct LibraryPathTests {
        /// The same model and data, handed to the trainer by a program, train to the same bits as the
        /// CLI's run on two ranks, and the program's own metric is reported beside the built-in ones.
        @Test func libraryRunIsBitIdenticalToTheCommandLine() throws {
            let base = NSTemporaryDirectory() + "tandem-library-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: base) }
            let config = packageRoot + "/configs/synthetic_smoke.yaml"
            let sets = TrainEndToEndTests.common.filter { $0 != "--set" }.flatMap { ["--set", $0] }
            let cli = try MPIRun.launch(
                "/usr/bin/env",
                [
                    "mpirun", "-np", "2", "--oversubscribe", "--bind-to", "none", TrainEndToEndTests.tandem, "train",
                    config, "--run-dir", base + "/cli",
                ] + sets, environment: ["TANDEM_NUM_THREADS": "1"], timeout: 120)
            let library = try MPIRun.run(
                ranks: 2, ["library-train", "--config", config, "--run-dir", base + "/library"] + sets)
            #expect(cli.status == 0 && library.status == 0, "\(cli.stderr)\n\(library.stderr)")
            #expect(
                library.stdout.contains("test accuracy") && library.stdout.contains("run directory: \(base)/library"))

            let weights = { (run: String) in FileManager.default.contents(atPath: "\(base)/\(run)/model.safetensors") }
            #expect(weights("cli") != nil && weights("cli") == weights("library"), "the trained models differ")
            let m1 = try TrainEndToEndTests.metrics(base + "/cli"),
                m2 = try TrainEndToEndTests.metrics(base + "/library")
            #expect(m1.count == m2.count && m1.count > 10)
            for (a, b) in zip(m1, m2) {
                for key in ["loss", "grad_norm", "lr", "accuracy"] where a[key] != nil {
                    #expect(a[key] as? Double == b[key] as? Double, "step \(a["step"]!) \(key)")
                }
            }
            let evaluations = m2.filter { $0["split"] != nil }
            #expect(evaluations.count == 4)  // three validations and the test
            for e in evaluations {
                #expect(e["own_accuracy"] as? Double == e["accuracy"] as? Double, "\(e)")
            }
            let log = try String(contentsOfFile: base + "/library/train.log", encoding: .utf8)
            #expect(log.contains("model MLP: ") && log.contains("own_accuracy"), "\(log.prefix(2000))")
        }
    }
}
