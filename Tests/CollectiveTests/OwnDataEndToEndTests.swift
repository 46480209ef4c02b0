import Foundation
import Testing

/// `tandem train` on the user's own data under mpirun: an augmented image folder, a token file
/// and a regression table each train on two ranks as one rank does on the global batch.
extension MPIJobs {
    @Suite("Own data end to end under mpirun", .serialized)
    struct OwnDataEndToEndTests {
        typealias E2E = TrainEndToEndTests

        /// `tandem train CONFIG` on `ranks` ranks with `batch` samples per rank.
        static func train(_ config: String, ranks: Int, batch: Int, runDir: String) throws -> MPIRun {
            try MPIRun.launch(
                "/usr/bin/env",
                [
                    "mpirun", "-np", "\(ranks)", "--oversubscribe", "--bind-to", "none", E2E.tandem, "train", config,
                    "--run-dir", runDir, "--set", "data.batch_size=\(batch)", "--set", "logging.progress=plain",
                    "--set", "logging.every_steps=1",
                ],
                environment: ["TANDEM_NUM_THREADS": "1"], timeout: 240)
        }

        /// Trains `config` on one rank (global batch `batch`) and on two (half each), and checks that
        /// every step's loss and gradient norm, the final metrics and the weights agree.
        /// - Parameter weightTolerance: the largest relative difference of a weight (Adam divides by √v,
        ///   which magnifies the rounding of small gradients summed in another order).
        static func expectTwoRanksMatchOne(
            _ config: String, batch: Int, in base: String, weightTolerance: Double = 1e-3
        ) throws -> [[String: Any]] {
            let one = try train(config, ranks: 1, batch: batch, runDir: base + "/one")
            let two = try train(config, ranks: 2, batch: batch / 2, runDir: base + "/two")
            try #require(one.status == 0 && two.status == 0, "\(one.stderr)\n\(two.stderr)")
            let m1 = try E2E.metrics(base + "/one"), m2 = try E2E.metrics(base + "/two")
            let steps1 = m1.filter { $0["split"] == nil }, steps2 = m2.filter { $0["split"] == nil }
            #expect(steps1.count == steps2.count && steps2.count >= 8)
            for (a, b) in zip(steps1, steps2) {
                for key in ["loss", "grad_norm"] {
                    let x = a[key] as! Double, y = b[key] as! Double
                    #expect(
                        Swift.abs(x - y) <= 1e-4 * Swift.max(1, Swift.abs(x)), "step \(a["step"]!) \(key): \(x) vs \(y)"
                    )
                }
            }
            let last1 = m1.last!, last2 = m2.last!
            #expect(Swift.abs((last1["loss"] as! Double) - (last2["loss"] as! Double)) < 1e-4)
            let difference = E2E.largestDifference(try E2E.weights(base + "/one"), try E2E.weights(base + "/two"))
            #expect(difference < weightTolerance, "the weights differ by \(difference) (relative)")
            return m2
        }

        static func temporary() -> String { NSTemporaryDirectory() + "tandem-own-\(UUID().uuidString)" }

        /// An image folder of Fashion-MNIST PNGs, augmented and normalised per channel: each
        /// sample's transform depends on (seed, epoch, index), not on the rank that reads it.
        @Test(.enabled(if: ImageFolderWriting.possible, "needs python3 with Pillow and the Fashion-MNIST files"))
        func augmentedImageFolderOnTwoRanksMatchesOne() throws {
            let base = Self.temporary()
            defer { try? FileManager.default.removeItem(atPath: base) }
            let folder = try ImageFolderMPITests.writeFolder(limit: 200, into: base + "/folder")
            let config = base + "/folder.yaml"
            try """
            seed: 3
            model: {name: lenet5}
            data:
              name: image_folder
              directory: \(folder)
              normalize: auto
              limit: 128
              validation_fraction: 0.2
              augment: {random_crop_padding: 2, horizontal_flip: 0.5, rotation_degrees: 10, brightness: 0.2}
            training: {epochs: 2}
            optimizer: {name: sgd, lr: 0.05, momentum: 0.9}
            """.write(toFile: config, atomically: true, encoding: .utf8)
            let metrics = try Self.expectTwoRanksMatchOne(config, batch: 32, in: base)
            #expect(metrics.last!["split"] as? String == "test")
            let classes = try String(contentsOfFile: base + "/two/classes.txt", encoding: .utf8)
            #expect(classes.split(separator: "\n").count == 10 && classes.hasPrefix("ankle_boot\n"))
            // The final line and the report name the classes by their folders.
            #expect((metrics.last!["classes"] as? [String])?.first == "ankle_boot")
            let report = try MPIRun.launch(
                "/usr/bin/env", [E2E.tandem, "report", base + "/two"], environment: [:], timeout: 60)
            #expect(report.status == 0, "\(report.stderr)")
            let page = try String(contentsOfFile: base + "/two/report.html", encoding: .utf8)
            #expect(page.contains("<th>ankle_boot</th>") && page.contains("<th>t-shirt_top</th>"))
            let normalization = try String(contentsOfFile: base + "/two/normalization.json", encoding: .utf8)
            #expect(normalization.contains("\"mean\"") && normalization.contains("\"std\""))
        }

        /// Deterministic mode with augmentation: the weights are the same bits on one rank and on
        /// two, since each sample's transform is drawn from (seed, epoch, index) alone.
        @Test func augmentationKeepsDeterministicModeWorldSizeInvariant() throws {
            let base = Self.temporary()
            defer { try? FileManager.default.removeItem(atPath: base) }
            try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
            let config = base + "/augmented.yaml"
            try """
            seed: 5
            deterministic: true
            distributed: {micro_shards: 2}
            model: {name: mlp, hidden_sizes: [24]}
            data:
              name: synthetic
              synthetic: {samples: 320, test_samples: 64, input_shape: [1, 10, 10], classes: 4}
              batch_size: 16
              augment: {random_crop_padding: 2, horizontal_flip: 0.5, rotation_degrees: 15, contrast: 0.3}
            training: {epochs: 2}
            optimizer: {name: sgd, lr: 0.05, momentum: 0.9}
            """.write(toFile: config, atomically: true, encoding: .utf8)
            let one = try Self.train(config, ranks: 1, batch: 16, runDir: base + "/one")
            let two = try Self.train(config, ranks: 2, batch: 16, runDir: base + "/two")
            try #require(one.status == 0 && two.status == 0, "\(one.stderr)\n\(two.stderr)")
            let a = try E2E.weights(base + "/one"), b = try E2E.weights(base + "/two")
            #expect(!a.isEmpty && a == b)
        }

        /// A GPT on nanoGPT-style uint16 token files, random windows drawn from the seed.
        @Test func tokenFilesOnTwoRanksMatchOne() throws {
            let base = Self.temporary()
            defer { try? FileManager.default.removeItem(atPath: base) }
            try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
            // A text-like sequence: runs of a repeating pattern over 40 ids, so there is something to learn.
            func tokens(_ count: Int, offset: Int) -> Data {
                Data(
                    (0..<count).flatMap { i -> [UInt8] in
                        let id = UInt16((i * 7 + offset + i / 13) % 40)
                        return [UInt8(id & 0xff), UInt8(id >> 8)]
                    })
            }
            try tokens(4000, offset: 0).write(to: URL(fileURLWithPath: base + "/train.bin"))
            try tokens(600, offset: 3).write(to: URL(fileURLWithPath: base + "/val.bin"))
            let config = base + "/tokens.yaml"
            try """
            seed: 1
            model: {name: gpt, embedding_size: 16, layers: 1, heads: 2}
            data:
              name: tokens
              train: \(base)/train.bin
              validation: \(base)/val.bin
              vocab_size: 40
              context: 8
              windows_per_epoch: 256
            training: {epochs: 1}
            optimizer: {name: adamw, lr: 0.003}
            """.write(toFile: config, atomically: true, encoding: .utf8)
            let metrics = try Self.expectTwoRanksMatchOne(config, batch: 32, in: base, weightTolerance: 1e-2)
            let losses = metrics.filter { $0["split"] == nil }.map { $0["loss"] as! Double }
            #expect(losses.last! < losses.first!, "the loss did not go down: \(losses)")
        }

        /// A CSV regression with a string column (one-hot encoded): MAE, RMSE and R² reach every
        /// rank the same, and the run keeps the table's statistics for evaluation.
        @Test func csvRegressionOnTwoRanksMatchesOne() throws {
            let base = Self.temporary()
            defer { try? FileManager.default.removeItem(atPath: base) }
            try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
            var rows = ["a,kind,b,y"]
            for i in 0..<288 {
                let a = Double((i * 37) % 101) / 10, b = Double((i * 53) % 89) / 20, kind = i % 3 == 0 ? "x" : "y"
                rows.append("\(a),\(kind),\(b),\(2 * a - b + (kind == "x" ? 3 : -1) + Double(i % 5) / 10)")
            }
            try rows.joined(separator: "\n").write(toFile: base + "/table.csv", atomically: true, encoding: .utf8)
            let config = base + "/table.yaml"
            try """
            model: {name: mlp, hidden_sizes: [16], loss: huber}
            data: {name: csv, path: \(base)/table.csv, target: y, task: regression, validation_fraction: 0.125}
            training: {epochs: 8}
            optimizer: {name: adam, lr: 0.02}
            checkpointing: {best_metric: r2, best_mode: max, keep_best: true}
            """.write(toFile: config, atomically: true, encoding: .utf8)
            let metrics = try Self.expectTwoRanksMatchOne(config, batch: 32, in: base)
            let final = metrics.last!
            #expect(final["split"] as? String == "validation" && final["samples"] as? Int == 36)
            #expect((final["r2"] as! Double) > 0.8, "r2 \(final["r2"]!)")
            #expect(Swift.abs((final["rmse"] as! Double) - (final["mse"] as! Double).squareRoot()) < 1e-9)
            #expect(FileManager.default.fileExists(atPath: base + "/two/table_statistics.json"))
            #expect(FileManager.default.fileExists(atPath: base + "/two/checkpoints/best"))
        }
    }
}
