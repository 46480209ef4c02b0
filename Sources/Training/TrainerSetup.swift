import Collective
import Foundation
import Logging
import Models
import NN

/// The parts of a run's start that are not the trainer's state: its logger, the data-parallel
/// wrapper, `model.init_from` and the line that describes the run.
enum TrainerSetup {
    /// The run's logger: rank 0 logs at logging.level to train.log and the terminal, the others
    /// only what they must say (warnings by default). Reports what opening the run directory
    /// repaired, and starts watching for stalled collectives.
    /// - Parameters:
    ///   - outputs: rank 0's run directory (nil: no log file).
    ///   - communicator: the world.
    static func logger(config: TrainConfig, outputs: RunOutputs?, communicator: Communicator) -> Logger {
        let level = (communicator.rank == 0 ? config.logging.level : config.logging.otherRanksLevel).logger
        let logPath = outputs?.logPath, rank = communicator.rank
        let logger = Logger(label: "tandem") { FileLogHandler(label: $0, path: logPath, level: level, rank: rank) }
        for note in outputs?.notes ?? [] { logger.warning("\(note)") }
        let d = config.distributed
        if d.stallWarningSeconds > 0, let mpi = communicator as? MPICommunicator,
            !mpi.inspectStalls(
                warnAfter: d.stallWarningSeconds, abortAfter: d.stallAbortSeconds,
                report: { logger.warning("\($0)") }), mpi.size > 1
        {
            logger.warning("stalled collectives cannot be reported: MPI did not grant MPI_THREAD_MULTIPLE")
        }
        return logger
    }

    /// The data-parallel wrapper, which broadcasts rank 0's weights and checks that every rank
    /// runs the same config: the last collectives of the start.
    /// - Parameters:
    ///   - config: the resolved configuration (its hash is compared over the ranks).
    ///   - arena: the model's flattened parameters.
    static func dataParallel(
        config: TrainConfig, model: any TrainableModel, arena: ParameterArena,
        communicator: Communicator, logger: Logger
    ) -> DistributedDataParallel {
        let d = config.distributed
        let ddp = DistributedDataParallel(
            model: model, arena: arena, communicator: communicator, configHash: ConfigLoader.hash(config),
            bucketBytes: Int(d.bucketMB * 1_048_576), firstBucketBytes: Int(d.firstBucketMB * 1_048_576),
            wire: d.wire.dtype, shardOptimizer: d.shardOptimizer,
            sharedMemory: d.sharedMemory)
        (communicator as? MPICommunicator)?.startupFinished()
        if let why = ddp.sharedMemoryUnavailable {
            logger.warning(
                """
                gradients go through MPI: shared memory failed (\(why)); \
                set distributed.shared_memory: false to skip the attempt
                """)
        }
        return ddp
    }

    /// `model.init_from`: rank 0 reads the trained weights (DDP then broadcasts them); every
    /// rank gets rank 0's error, if any. Non-strict (`model.init_strict: false`), the tensors
    /// that match by name and shape are loaded and rank 0 logs which were skipped and which
    /// start afresh.
    /// - Parameters:
    ///   - config: `model:`, whose `init_from` is a run directory or a .safetensors file.
    ///   - logger: rank 0's writes train.log.
    static func loadInitialWeights(
        _ model: any Module, config: ModelConfig, communicator: Communicator, logger: Logger
    ) throws {
        guard let source = config.initFrom else { return }
        var message = "", report = ""
        if communicator.rank == 0 {
            let path = ((source.hasSuffix(".safetensors") ? source : source + "/model.safetensors") as NSString)
                .expandingTildeInPath
            do {
                if config.initStrict {
                    try ModelWeights.load(model, from: path)
                } else {
                    report = try PartialWeightLoad.load(model, from: path).summary
                }
            } catch {
                message = "\(error)"
            }
        }
        let error = communicator.allgather(message)[0]
        guard error.isEmpty else {
            throw ConfigError(
                "model.init_from \(source): \(error); give a run directory of this model "
                    + "(its model.safetensors) or such a file")
        }
        if !report.isEmpty { logger.notice("model.init_from \(source) (init_strict: false): \(report)") }
    }

    /// The run in one log line: model, data, world, precision, batch and steps.
    static func description(of t: Trainer) -> String {
        let config = t.config, ddp = t.ddp, plan = t.plan
        let sharded = ddp.sharded ? " (optimizer sharded)" : ""
        let fixed = DistributedDataParallel.frozenParameters(model: t.model, arena: ddp.arena)
        let frozen = fixed.isEmpty ? "" : " to train, \(fixed.reduce(0) { $0 + $1.1.count }) frozen (training.freeze)"
        let shared = ddp.reducer.sharedMemory != nil ? " (gradients through shared memory)" : ""
        let scale = t.scaler.map { ", loss scale \($0.scale)\($0.dynamic ? " (dynamic)" : "")" } ?? ""
        let shards =
            plan.fixedPoint.map {
                " (deterministic: \($0.globalShards) micro-shards of \(config.data.batchSize))"
            } ?? ""
        return """
            model \(t.modelName): \(ddp.arena.parameterCount) parameters\(frozen); data \(t.dataName): \
            \(t.data.train.count) train, \(t.data.validation.count) validation, \
            \(t.data.test?.count ?? 0) test samples; \
            \(t.communicator.size) ranks x \(ThreadPool.shared.threadCount) threads\(sharded)\(shared); \
            precision \(config.precision.mode)\(scale); global batch \(plan.globalBatch)\(shards); \
            \(plan.stepsPerEpoch) steps per epoch; \
            no weight decay on: \(t.optimizer.groups.undecayed.joined(separator: ", "))
            """
    }
}
