import Checkpoint
import Foundation
import TensorCore
import Testing

/// `training.freeze` and `training.unfreeze_at_epoch` under `mpirun -np 2`, through `tandem train`.
extension MPIJobs {
    @Suite("Frozen parameters under mpirun", .serialized)
    struct FreezingMPITests {
        static func tensors(_ file: String) throws -> [String: NDArray] {
            try SafeTensors.decode(Data(contentsOf: URL(fileURLWithPath: file)), name: file).tensors
        }

        static func train(_ runDir: String, _ settings: [String], resume: Bool = false) throws -> MPIRun {
            let run = try MPIJobs.TrainEndToEndTests.train(
                ranks: 2, batch: 16, runDir: runDir,
                settings.flatMap { ["--set", $0] } + (resume ? ["--resume", "auto"] : []))
            #expect(run.status == 0, "\(runDir): \(run.stderr)")
            return run
        }

        static func checkpoint(_ runDir: String, _ step: Int) -> String {
            runDir + "/checkpoints/" + String(format: "step-%08d", step)
        }

        /// The smoke MLP (20 → 32 → 4) fine-tuned from a 3-step run with its hidden layer
        /// frozen: the hidden layer ends bit-identical to the pretrained one on both ranks' model,
        /// the checkpoint's momentum covers the head alone (128 + 4 values, 144 with padding, of
        /// 816), and stopped at step 20 and resumed to 40 it stays frozen and ends bit-identical
        /// to 40 steps straight.
        @Test func frozenParametersStayFixedAndResume() throws {
            let base = NSTemporaryDirectory() + "tandem-freeze-mpi-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: base) }
            _ = try Self.train(base + "/pre", ["training.max_steps=3"])
            let pretrained = try Self.tensors(base + "/pre/model.safetensors")
            let fine = [
                "model.init_from=\(base)/pre", "training.freeze=[hidden.]", "checkpointing.every_steps=10",
                "checkpointing.keep_last=20",
            ]
            _ = try Self.train(base + "/straight", fine + ["training.max_steps=40"])
            let straight = try Self.tensors(base + "/straight/model.safetensors")
            for name in ["hidden.0.weight", "hidden.0.bias"] {
                #expect(straight[name]!.scalars == pretrained[name]!.scalars, "\(name) moved")
            }
            #expect(straight["output.weight"]!.scalars != pretrained["output.weight"]!.scalars)
            let state = try Self.tensors(Self.checkpoint(base + "/straight", 20) + "/optimizer.safetensors")
            #expect(state["momentum_buffer"]?.count == 144, "\(state.mapValues(\.count))")
            let log = try String(contentsOfFile: base + "/straight/train.log", encoding: .utf8)
            #expect(log.contains("model mlp: 132 parameters to train, 672 frozen (training.freeze)"), "\(log)")

            _ = try Self.train(base + "/resumed", fine + ["training.max_steps=20"])
            _ = try Self.train(base + "/resumed", fine + ["training.max_steps=40"], resume: true)
            let log2 = try String(contentsOfFile: base + "/resumed/train.log", encoding: .utf8)
            #expect(log2.contains("resuming from") && log2.contains("132 parameters to train, 672 frozen"), "\(log2)")
            #expect(
                FileManager.default.contents(atPath: base + "/resumed/model.safetensors")
                    == FileManager.default.contents(atPath: base + "/straight/model.safetensors"),
                "resumed is not bit-identical to straight")
        }

        /// Unfrozen at epoch 2 of 3 with the optimizer sharded over the 2 ranks (18 steps per
        /// epoch): the hidden layer is fixed through epoch 1 and moves after; the reducer and the
        /// sharded optimizer are built again over the whole model, whose checkpoints then hold
        /// the whole momentum. Resumed from step 25 (inside epoch 2) it ends bit-identical.
        @Test func unfreezingWithAShardedOptimizer() throws {
            let base = NSTemporaryDirectory() + "tandem-unfreeze-mpi-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: base) }
            let settings = [
                "training.freeze=[hidden.]", "training.unfreeze_at_epoch=2", "distributed.shard_optimizer=true",
                "checkpointing.every_steps=5", "checkpointing.keep_last=20", "schedule.name=constant",
            ]
            _ = try Self.train(base + "/straight", settings)
            let log = try String(contentsOfFile: base + "/straight/train.log", encoding: .utf8)
            #expect(log.contains("epoch 2: unfroze 2 parameter tensors (training.unfreeze_at_epoch); 804 parameters"))
            let initial = try Self.tensors(Self.checkpoint(base + "/straight", 5) + "/model.safetensors")
            let first = try Self.tensors(Self.checkpoint(base + "/straight", 18) + "/model.safetensors")
            let second = try Self.tensors(Self.checkpoint(base + "/straight", 36) + "/model.safetensors")
            #expect(first["hidden.0.weight"]!.scalars == initial["hidden.0.weight"]!.scalars)
            #expect(second["hidden.0.weight"]!.scalars != first["hidden.0.weight"]!.scalars)
            let frozenState = try Self.tensors(Self.checkpoint(base + "/straight", 15) + "/optimizer.safetensors")
            let wholeState = try Self.tensors(Self.checkpoint(base + "/straight", 25) + "/optimizer.safetensors")
            #expect(frozenState["momentum_buffer"]?.count == 144 && wholeState["momentum_buffer"]?.count == 816)

            try FileManager.default.createDirectory(atPath: base + "/resumed", withIntermediateDirectories: true)
            let resumed = try MPIJobs.TrainEndToEndTests.train(
                ranks: 2, batch: 16, runDir: base + "/resumed",
                settings.flatMap { ["--set", $0] } + ["--resume", Self.checkpoint(base + "/straight", 25)])
            #expect(resumed.status == 0, "\(resumed.stderr)")
            #expect(
                FileManager.default.contents(atPath: base + "/resumed/model.safetensors")
                    == FileManager.default.contents(atPath: base + "/straight/model.safetensors"),
                "resumed inside the unfrozen epoch is not bit-identical to straight")
        }
    }
}
