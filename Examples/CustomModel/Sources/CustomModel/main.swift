import Foundation
import TandemKit

// Trains ShapeNet on ShapesDataset with Tandem's trainer, on one process or on every rank
// under mpirun:
//
//   CustomModel [RUN_DIR] [key=value ...]
//   mpirun -np 2 .build/release/CustomModel runs/shapes training.epochs=5
//
// Each key=value overrides a config key as `tandem train --set` does (docs/CONFIG.md). Run
// the same command again after a stop (Ctrl-C, SIGTERM, a preemption): it continues from
// the newest checkpoint in RUN_DIR.

var config = TrainConfig()
config.seed = 7
config.data.batchSize = 32  // per rank: the global batch is 32 x ranks
config.training.epochs = 3
config.optimizer.name = .adam
config.optimizer.lr = 0.003
config.schedule.name = .cosine
config.logging.everySteps = 8

let arguments = Array(CommandLine.arguments.dropFirst())
let runDirectory = arguments.first { !$0.contains("=") } ?? "runs/shapes"
let overrides = arguments.filter { $0.contains("=") }
do {
    // The checks of a config file: a wrong key or value is named, with what is allowed.
    config = try ConfigLoader.parse(
        yaml: ConfigLoader.yaml(config), source: "CustomModel", overrides: overrides, customModel: true)
} catch {
    FileHandle.standardError.write(Data("CustomModel: \(error)\n".utf8))
    exit(2)
}

let job = TrainingJob(
    config: config, runDirectory: runDirectory, resume: .auto, metrics: [TrueClassProbability()])
let outcome = job.run(
    data: { config in
        DataSplits(
            train: ShapesDataset(count: 2048, seed: UInt64(config.seed) * 3 + 1),
            validation: ShapesDataset(count: 512, seed: UInt64(config.seed) * 3 + 2),
            test: ShapesDataset(count: 512, seed: UInt64(config.seed) * 3 + 3))
    },
    model: { _, data in ShapeNet(classes: data.train.classCount) })
// 0, or 75 after a stop by a signal (with a checkpoint to continue from).
exit(outcome.exitStatus)
