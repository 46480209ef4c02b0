import Collective
import Datasets
import Foundation
import NN

/// How the training split divides into steps on this world: the micro-batches per step, the
/// sampler's shard of each epoch, the global batch and the number of steps in the run.
struct StepPlan {
    /// Micro-batches per optimizer step on this rank: gradient_accumulation, or in
    /// deterministic mode micro_shards / world.
    let microBatchesPerStep: Int
    /// Deterministic mode's exact sum of the micro-shard gradients (nil otherwise).
    let fixedPoint: FixedPointReducer?
    let sampler: DistributedSampler
    /// Optimizer steps per epoch, and in the whole run from its start (a resumed run included).
    let stepsPerEpoch: Int, totalSteps: Int
    /// Samples per optimizer step over all ranks: batch_size × ranks × gradient_accumulation.
    let globalBatch: Int

    /// Checks that the batch fits the world and the training split, and counts the run's steps.
    /// - Parameters:
    ///   - config: the resolved configuration (after a resume's change of batch, if any).
    ///   - trainCount: samples in the training split.
    ///   - communicator: the world.
    ///   - arena: the parameters, which deterministic mode's exact sum covers.
    ///   - resumed: the checkpoint the run continues from (nil for a fresh start).
    init(
        config: TrainConfig, trainCount: Int, communicator: Communicator, arena: ParameterArena,
        resumed: CheckpointManifest?
    ) throws {
        let d = config.distributed, world = communicator.size
        if config.deterministic, let shards = d.microShards {
            guard shards % world == 0 else {
                let sizes = (1...shards).filter { shards % $0 == 0 }.map(String.init).joined(separator: ", ")
                throw TrainingError(
                    "deterministic: true splits each step into distributed.micro_shards \(shards) shards, which do not "
                        + "divide over \(world) ranks; run on \(sizes) ranks, or change micro_shards "
                        + "(which changes the results)")
            }
            microBatchesPerStep = shards / world
            fixedPoint = FixedPointReducer(
                communicator: communicator, arena: arena, globalShards: shards,
                localShards: microBatchesPerStep)
            ThreadPool.fixedPartitions = true
        } else {
            microBatchesPerStep = d.gradientAccumulation
            fixedPoint = nil
        }
        let batch = config.data.batchSize, perStep = microBatchesPerStep, epochs = config.training.epochs
        sampler = DistributedSampler(
            count: trainCount, rank: communicator.rank, worldSize: world,
            shuffle: config.data.shuffle, seed: UInt64(config.seed),
            dropLast: config.data.dropLast,
            microShards: fixedPoint.map { (batch, $0.globalShards) })
        let microBatches = (sampler.samplesPerRank + batch - 1) / batch
        stepsPerEpoch = (microBatches + perStep - 1) / perStep
        globalBatch = batch * world * perStep
        if globalBatch > trainCount && !config.data.allowBatchLargerThanDataset {
            let layout = BatchLayout(batchSize: batch, ranks: world, accumulation: perStep)
            throw ConfigError(
                "one global batch (\(layout)) holds more samples than the \(trainCount) of the "
                    + "training split, so every step would repeat samples; "
                    + "lower data.batch_size or the number of ranks, or set data.allow_batch_larger_than_dataset: true")
        }
        func steps(forSamplesPerRank n: Int) -> Int { ((n + batch - 1) / batch + perStep - 1) / perStep }
        // The plan counts from where the run stands: the steps taken, the rest of this epoch in
        // this world's layout, then whole epochs, so a resume on another world size trains
        // exactly what is left (saturating: a count too large to train is never reached).
        var planned = Self.saturating(stepsPerEpoch, times: epochs)
        if let m = resumed {
            let left = sampler.remainingPerRank(from: m.positionInEpoch)
            let rest = m.epoch < epochs ? steps(forSamplesPerRank: left) : 0
            let wholeEpochs = Self.saturating(stepsPerEpoch, times: max(epochs - m.epoch - 1, 0))
            planned = Self.saturating(m.step + rest, plus: wholeEpochs)
        }
        totalSteps = min(config.training.maxSteps ?? .max, planned)
    }

    /// a × b, or Int.max when it does not fit.
    static func saturating(_ a: Int, times b: Int) -> Int {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? .max : product
    }

    /// a + b, or Int.max when it does not fit.
    static func saturating(_ a: Int, plus b: Int) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : sum
    }
}
