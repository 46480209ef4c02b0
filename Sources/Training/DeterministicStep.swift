import Autograd
import Collective
import Datasets
import NN

extension Trainer {
    /// One optimizer step in deterministic mode: this rank's micro-shards one at a time, their
    /// gradients summed exactly over every rank, then the usual clipping and update.
    ///
    /// Everything a shard's gradient depends on is the same whichever rank computes it: its
    /// samples (the sampler's shard layout), its shape (one forward of data.batch_size), its
    /// random draws (every stream re-keyed by the shard's global index) and its backward seed
    /// (the loss scale, with the mean's 1/shards applied after the exact sum).
    /// - Parameters:
    ///   - shards: this rank's micro-shards of the step, in order.
    ///   - reducer: sums the shard gradients over all ranks in 64-bit fixed point.
    /// - Returns: the global gradient norm before clipping.
    func deterministicStep(_ shards: [Batch], _ reducer: FixedPointReducer, window: inout LogWindow,
                           step: Int, epoch: Int) throws -> Double {
        let c = config, arena = ddp.arena
        scheduler.apply(to: optimizer)
        ddp.synchronize = false  // the fp32 bucket allreduce stays idle
        let first = step * reducer.globalShards + communicator.rank * reducer.localShards
        let seed = Float(scaler?.scale ?? 1)
        for (j, batch) in shards.enumerated() {
            let shard = first + j
            // 2^32 Philox counters per shard: far more than any model draws for one.
            for stream in randomStreams { stream.rng.offset = UInt64(shard) << 32 }
            let loss = withAutocast(c.precision.computeType) {
                model.loss(inputs: batch.inputs, targets: batch.flatTargets, labelSmoothing: Float(c.training.labelSmoothing))
            }
            loss.backward(NDArray(repeating: seed, shape: loss.shape))
            window.add(loss: Double(loss.item), samples: batch.count, key: shard)
            reducer.add(arena.grads)  // and zeroes them for the next shard
        }
        reducer.reduce(into: arena.grads)
        let norm = try finishUpdate(step: step, epoch: epoch) { optimizer.step() }
        window.endStep(exposedSeconds: 0)
        scheduler.advance()
        return norm
    }
}
