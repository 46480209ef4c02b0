import Checkpoint
import Collective
import Foundation
import TensorCore
import Testing
@testable import Training

/// `training.freeze` and `training.unfreeze_at_epoch` in one process: the arena, buckets and
/// optimizer state cover the trainable parameters only, frozen ones stay bit-identical, and
/// unfreezing makes them train from its epoch on, resumably.
@Suite("Frozen parameters")
struct ParameterFreezingTests {
    static func folder() -> String { NSTemporaryDirectory() + "tandem-freeze-\(UUID().uuidString)" }

    static func values(_ t: Trainer) -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: t.model.namedParameters().map { ($0.0, $0.1.data.scalars) })
    }

    static func tensors(_ file: String) throws -> [String: NDArray] {
        try SafeTensors.decode(Data(contentsOf: URL(fileURLWithPath: file)), name: file).tensors
    }

    /// The MLP's hidden layer (16x12 + 16 = 208 values) frozen: the arena, the gradient buckets
    /// and the momentum buffer hold the head alone (48 + 3 values, 48 + 16 with padding),
    /// against 259 values (272 with padding) for the whole model.
    @Test func arenaBucketsAndStateCoverTrainableParametersOnly() throws {
        let whole = try Trainer(
            config: TrainerTests.config(), runDirectory: nil, communicator: SingleProcessCommunicator())
        #expect(whole.ddp.arena.capacity == 272)
        #expect(whole.ddp.reducer.buckets.map(\.range.count).reduce(0, +) == 259)
        let t = try Trainer(
            config: TrainerTests.config(["training.freeze=[hidden.]"]), runDirectory: nil,
            communicator: SingleProcessCommunicator())
        #expect(t.ddp.arena.entries.map(\.name) == ["output.weight", "output.bias"])
        #expect(t.ddp.arena.capacity == 64 && t.ddp.arena.parameterCount == 51)
        #expect(t.ddp.reducer.buckets.map(\.range.count).reduce(0, +) == 51)
        #expect(t.ddp.reducer.buckets.allSatisfy { $0.range.upperBound <= 64 })
        #expect(TrainerSetup.description(of: t).contains("model mlp: 51 parameters to train, 208 frozen"))
        let before = Self.values(t)
        _ = try t.run()
        let after = Self.values(t)
        #expect(after["hidden.0.weight"] == before["hidden.0.weight"])
        #expect(after["hidden.0.bias"] == before["hidden.0.bias"])
        #expect(after["output.weight"] != before["output.weight"])
        #expect(t.optimizer.state["momentum_buffer"]?.count == 64)
        #expect(t.model.namedParameters().filter { $0.0.hasPrefix("hidden.") }.allSatisfy { !$0.1.requiresGrad })
    }

    /// Prefixes that match nothing, or everything, are config errors naming the model's parameters.
    @Test func prefixesAreCheckedAgainstTheModel() throws {
        #expect {
            try Trainer(
                config: TrainerTests.config([
                    "training.freeze=[hiden.]", "optimizer.groups=[{prefix: head, lr: 0.01}]",
                ]),
                runDirectory: nil, communicator: SingleProcessCommunicator())
        } throws: {
            "\($0)"
                == "config errors:\n  - training.freeze has \"hiden.\", which matches no parameter of model mlp; its "
                + "parameters start with hidden., output.\n  - optimizer.groups[0].prefix has \"head\", which matches "
                + "no parameter of model mlp; its parameters start with hidden., output."
        }
        #expect {
            try Trainer(
                config: TrainerTests.config(["training.freeze=[hidden., output]"]), runDirectory: nil,
                communicator: SingleProcessCommunicator())
        } throws: {
            "\($0)".contains(
                "training.freeze is [\"hidden.\", \"output\"], which covers every parameter of model mlp; allowed: "
                    + "prefixes that leave some parameters to train")
        }
    }

    /// Three epochs with the hidden layer unfrozen at the second: it is fixed through epoch 1
    /// and moves in epoch 2; the checkpoint of epoch 1 has the head's momentum only, the later
    /// ones the whole model's. Resumed from the end of epoch 1 (frozen, about to unfreeze) and
    /// from inside epoch 2 (already unfrozen), the run ends bit-identical to the straight one.
    @Test func unfreezeAtEpochTrainsThemFromThatEpochResumably() throws {
        let base = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let settings = [
            "training.epochs=3", "training.freeze=[hidden.]", "training.unfreeze_at_epoch=2",
            "checkpointing.keep_last=50", "checkpointing.every_steps=5",
        ]
        let straight = try Trainer(
            config: TrainerTests.config(settings), runDirectory: base + "/straight",
            communicator: SingleProcessCommunicator())
        let initial = Self.values(straight), perEpoch = straight.stepsPerEpoch
        #expect(perEpoch > 5 && perEpoch % 5 != 0)
        _ = try straight.run()
        #expect(straight.ddp.arena.entries.count == 4 && straight.ddp.arena.capacity == 272)
        func checkpoint(_ step: Int) -> String { base + "/straight/checkpoints/" + String(format: "step-%08d", step) }
        let endOfFirst = try Self.tensors(checkpoint(perEpoch) + "/model.safetensors")
        #expect(endOfFirst["hidden.0.weight"]!.scalars == initial["hidden.0.weight"])
        #expect(endOfFirst["output.weight"]!.scalars != initial["output.weight"])
        #expect(try Self.tensors(checkpoint(perEpoch) + "/optimizer.safetensors")["momentum_buffer"]!.count == 64)
        let inSecond = (perEpoch / 5 + 1) * 5
        #expect(try Self.tensors(checkpoint(inSecond) + "/optimizer.safetensors")["momentum_buffer"]!.count == 272)
        let endOfSecond = try Self.tensors(checkpoint(2 * perEpoch) + "/model.safetensors")
        #expect(endOfSecond["hidden.0.weight"]!.scalars != initial["hidden.0.weight"])

        // Other freeze settings at the checkpoint's position cannot take its optimizer state.
        #expect {
            try Trainer(
                config: TrainerTests.config(["training.epochs=3", "checkpointing.every_steps=5"]),
                runDirectory: base + "/other", communicator: SingleProcessCommunicator(),
                resume: .path(checkpoint(perEpoch)))
        } throws: {
            "\($0)".contains(
                "was saved with [\"hidden.\"] frozen (training.freeze), where this config freezes []; its optimizer "
                    + "state fits only those settings")
        }
        let final = try Data(contentsOf: URL(fileURLWithPath: base + "/straight/model.safetensors"))
        for (name, step, frozen) in [("frozen", perEpoch, true), ("unfrozen", inSecond, false)] {
            try FileManager.default.createDirectory(atPath: base + "/" + name, withIntermediateDirectories: true)
            let resumed = try Trainer(
                config: TrainerTests.config(settings), runDirectory: base + "/" + name,
                communicator: SingleProcessCommunicator(), resume: .path(checkpoint(step)))
            #expect(resumed.ddp.arena.entries.count == (frozen ? 2 : 4), "\(name)")
            _ = try resumed.run()
            let weights = try Data(contentsOf: URL(fileURLWithPath: base + "/\(name)/model.safetensors"))
            #expect(weights == final, "resumed \(name) at step \(step) is not bit-identical to the straight run")
        }
    }

    /// A GAN with part of its discriminator frozen: the generator's step, which switches the
    /// discriminator's gradients off and on again, leaves the frozen ones off, so they get no
    /// gradient buffer and stay bit-identical.
    @Test func aGANKeepsItsFrozenDiscriminatorLayerFixed() throws {
        let config = try ConfigLoader.parse(
            yaml: """
                model: {name: dcgan, latent_size: 4, hidden_size: 4}
                data: {name: fashion_mnist, directory: /usr/share/datasets/fashion-mnist, normalize: false,
                       batch_size: 16, limit: 64}
                training: {epochs: 1, max_steps: 3, test_at_end: false, max_eval_samples: 16,
                           freeze: [discriminator.downsample1.]}
                optimizer: {name: adam, lr: 0.001, betas: [0.5, 0.999]}
                logging: {progress: none}
                """)
        let t = try Trainer(config: config, runDirectory: nil, communicator: SingleProcessCommunicator())
        let frozen = t.model.namedParameters().filter { $0.0.hasPrefix("discriminator.downsample1.") }
        #expect(!frozen.isEmpty)
        let before = frozen.map { $0.1.data.scalars }
        _ = try t.run()
        #expect(frozen.map { $0.1.data.scalars } == before)
        #expect(frozen.allSatisfy { !$0.1.requiresGrad && $0.1.grad == nil })
        let trained = t.model.namedParameters().first { $0.0 == "discriminator.downsample2.weight" }!
        #expect(trained.1.requiresGrad)
    }

    /// Deterministic mode: the exact-sum reducer is built again over the whole arena at the
    /// unfreezing epoch; the hidden layer moves from then on, and a resume from the end of the
    /// frozen epoch ends bit-identical.
    @Test func unfreezingInDeterministicMode() throws {
        let base = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let settings = [
            "deterministic=true", "distributed.micro_shards=2", "data.batch_size=16", "training.freeze=[hidden.]",
            "training.unfreeze_at_epoch=2", "checkpointing.keep_last=50",
        ]
        let straight = try Trainer(
            config: TrainerTests.config(settings), runDirectory: base + "/straight",
            communicator: SingleProcessCommunicator())
        let initial = Self.values(straight), perEpoch = straight.stepsPerEpoch
        _ = try straight.run()
        #expect(straight.update.fixedPoint != nil && straight.ddp.arena.entries.count == 4)
        let first = try Self.tensors(
            base + "/straight/checkpoints/" + String(format: "step-%08d", perEpoch) + "/model.safetensors")
        #expect(first["hidden.0.weight"]!.scalars == initial["hidden.0.weight"])
        #expect(Self.values(straight)["hidden.0.weight"] != initial["hidden.0.weight"])
        let resumed = try Trainer(
            config: TrainerTests.config(settings), runDirectory: base + "/resumed",
            communicator: SingleProcessCommunicator(),
            resume: .path(base + "/straight/checkpoints/" + String(format: "step-%08d", perEpoch)))
        _ = try resumed.run()
        #expect(
            FileManager.default.contents(atPath: base + "/resumed/model.safetensors")
                == FileManager.default.contents(atPath: base + "/straight/model.safetensors"))
    }
}
