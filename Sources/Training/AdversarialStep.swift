import Autograd
import Datasets
import Models
import Optim

extension Trainer {
    /// One GAN step (Goodfellow et al., algorithm 1 with k = 1): a discriminator update on the
    /// batch's real images against as many generated ones, then a generator update, each
    /// through the same gradient reducer and each by its own part of the optimizer.
    ///
    /// During the generator's backward the discriminator's parameters do not require
    /// gradients: the gradient still flows through the discriminator to the generator, but no
    /// discriminator weight gradient is computed, and its slots stay zero for the norm.
    /// - Returns: the generator step's gradient norm.
    func adversarialStep(_ batch: Batch, _ gan: any AdversarialModel, step: Int, epoch: Int) throws -> Double {
        scheduler.apply(to: optimizer)
        let parts = optimizer as! PartitionedOptimizer
        let discriminatorLoss = gan.discriminatorLoss(real: batch.inputs)
        discriminatorLoss.backward()
        _ = try finishUpdate(step: step, epoch: epoch) { parts.step(part: "discriminator") }

        let discriminatorParameters = gan.namedParameters().filter { $0.0.hasPrefix(gan.discriminatorPrefix) }.map(\.1)
        for p in discriminatorParameters { p.requiresGrad = false }
        let generatorLoss = gan.generatorLoss(count: batch.count)
        generatorLoss.backward()
        for p in discriminatorParameters { p.requiresGrad = true }
        let norm = try finishUpdate(step: step, epoch: epoch) { parts.step(part: "generator") }

        let (d, g) = (Double(discriminatorLoss.item), Double(generatorLoss.item))
        window.add(loss: d + g, samples: batch.count, key: step * communicator.size + communicator.rank)
        window.add(part: "loss_d", loss: d, samples: batch.count)
        window.add(part: "loss_g", loss: g, samples: batch.count)
        window.endStep(exposedSeconds: stepExposedSeconds)
        stepExposedSeconds = 0
        scheduler.advance()
        return norm
    }
}
