import Checkpoint
import Foundation
import Testing

/// Model files for other frameworks from the command line: `tandem export` of a checkpoint
/// written before PyTorch names, and `tandem interop-outputs`.
extension MPIJobs {
    @Suite("Export and outputs for PyTorch", .serialized)
    struct InteropCommandTests {
        static func tandem(_ arguments: [String]) throws -> MPIRun {
            try MPIRun.launch(
                TrainEndToEndTests.tandem, arguments, environment: ["TANDEM_NUM_THREADS": "1"], timeout: 120)
        }

        static func copy(_ run: String) throws -> String {
            let dir = NSTemporaryDirectory() + "tandem-interop-\(UUID().uuidString)"
            try FileManager.default.copyItem(atPath: packageRoot + "/Tests/LegacyRuns/" + run, toPath: dir)
            return dir
        }

        /// An old checkpoint exports under the new names, with the counters PyTorch expects (0)
        /// and `{"format": "pt"}`, its values unchanged.
        @Test func exportWritesAnOldCheckpointUnderTheNewNames() throws {
            let dir = try Self.copy("resnet")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let run = try Self.tandem(["export", dir, "--to", dir + "/exported.safetensors"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains("wrote 38 tensors of step 8"), "\(run.stdout)")
            let checkpoint = dir + "/checkpoints/step-00000008/model.safetensors"
            let old = try SafeTensors.decode(Data(contentsOf: URL(fileURLWithPath: checkpoint)), name: "old").tensors
            let (new, metadata) = try SafeTensors.decode(
                Data(contentsOf: URL(fileURLWithPath: dir + "/exported.safetensors")), name: "new")
            #expect(metadata["format"] == "pt" && metadata["step"] == "8")
            #expect(!new.keys.contains { $0.contains("running") && !$0.contains("running_") })
            let mean = new["blocks.1.projectionNorm.running_mean"]
            #expect(mean != nil && mean?.scalars == old["blocks.1.projectionNorm.runningMean"]?.scalars)
            #expect(new["stemNorm.num_batches_tracked"]?.dtype == .int64)
            #expect(new["stemNorm.num_batches_tracked"]?.scalars == [0])
            #expect(new.count == old.count + 6, "one counter per batch norm")
        }

        /// The files `launch/interop/compare.py` reads, and a clear error for a folder that is no run.
        @Test func interopOutputsWritesTheFilesOrSaysWhyNot() throws {
            let dir = try Self.copy("lstm")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let run = try Self.tandem(["interop-outputs", dir, "--out", dir + "/out", "--count", "3"])
            #expect(run.status == 0, "\(run.stderr)")
            for file in ["inputs.npy", "logits.npy", "outputs.json"] {
                #expect(FileManager.default.fileExists(atPath: dir + "/out/" + file), "\(file) missing")
            }
            let empty = NSTemporaryDirectory() + "tandem-interop-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: empty) }
            let missing = try Self.tandem(["interop-outputs", empty, "--out", empty + "/out"])
            #expect(missing.status == 2, "\(missing.stderr)")
            #expect(missing.stderr.hasPrefix("tandem interop-outputs: ") && missing.stderr.contains("config.yaml"))
            #expect(!missing.stderr.contains("Error Domain"), "\(missing.stderr)")
        }
    }
}
