import Collective
import Optim

extension Trainer {
    /// Lets the frozen parameters join training at the start of `training.unfreeze_at_epoch`.
    ///
    /// The arena is built again over every parameter, with a new gradient reducer (and its
    /// buckets), a fresh optimizer (sharded again when the optimizer is) and, in deterministic
    /// mode, a new exact-sum reducer. Every rank does this at the same epoch.
    func unfreezeIfDue() {
        let freezing = ParameterFreezing(config: config.training)
        let trainable = ddp.arena.entries.count
        guard let at = freezing.unfreezeEpoch, epoch >= at, trainable < model.namedParameters().count else { return }
        ddp.shutdown()
        let arena = freezing.arena(for: model, frozen: false)
        let ddp = TrainerSetup.dataParallel(
            config: config, model: model, arena: arena, communicator: communicator, logger: logger)
        let optimizer = OptimizerFactory.optimizer(config.optimizer, arena: arena, model: model)
        ddp.shard(optimizer)
        let fixedPoint = update.fixedPoint.map {
            FixedPointReducer(
                communicator: communicator, arena: arena, globalShards: $0.globalShards, localShards: $0.localShards)
        }
        update.replace(ddp: ddp, optimizer: optimizer, fixedPoint: fixedPoint)
        logger.notice(
            """
            epoch \(epoch + 1): unfroze \(arena.entries.count - trainable) parameter tensors \
            (training.unfreeze_at_epoch); \(arena.parameterCount) parameters train now, with a fresh optimizer
            """)
    }
}
