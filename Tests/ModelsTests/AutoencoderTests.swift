import Foundation
import Datasets
import Models
import NN
import Optim
import Testing

/// 8x8 images in [0, 1], each one random horizontal and one random vertical bar.
private func bars(_ n: Int, seed: UInt64) -> NDArray {
    var rng = PhiloxRNG(seed: seed)
    var picks = [Float](repeating: 0, count: 2 * n)
    rng.fillUniform(&picks, picks.count)
    var pixels = [Float](repeating: 0, count: n * 64)
    for i in 0..<n {
        let (row, col) = (Int(picks[2 * i] * 8), Int(picks[2 * i + 1] * 8))
        for k in 0..<8 { pixels[i * 64 + row * 8 + k] = 1; pixels[i * 64 + k * 8 + col] = 1 }
    }
    return NDArray(pixels, shape: [n, 1, 8, 8])
}

/// Adam on batches of 32 of 256 bar images (the target is the input).
private func train(_ model: any TrainableModel, steps: Int) -> (first: Float, last: Float) {
    let data = bars(256, seed: 7)
    return trainWithAdam(model, learningRate: 3e-3, steps: steps) { step in
        let lo = (step * 32) % 256
        return Batch(inputs: Layout.slice(data, axis: 0, start: lo, end: lo + 32), targets: NDArray(shape: [1]))
    }
}

@Suite("Autoencoders")
struct AutoencoderTests {
    @Test(arguments: [Float(0), 0.3])
    func reconstructsBars(noise: Float) {
        Init.seed(1)
        let model = Autoencoder(imageShape: [1, 8, 8], hidden: 64, code: 16, noise: noise, seed: 2)
        let (first, last) = train(model, steps: 150)
        // Loss in nats per image: 64 pixels start near log 2 each (44); the bars are 15 of 64.
        #expect(last < 0.4 * first, "noise \(noise): loss \(first) -> \(last)")
        model.eval()
        let held = bars(32, seed: 99)
        let evalLoss = withNoGrad { model.loss(inputs: held, targets: NDArray(shape: [1]), labelSmoothing: 0).item }
        #expect(evalLoss < 0.5 * first, "held-out loss \(evalLoss)")
        // Evaluation is deterministic: no corruption outside training.
        #expect(
            evalLoss == withNoGrad { model.loss(inputs: held, targets: NDArray(shape: [1]), labelSmoothing: 0).item })
        var rng = PhiloxRNG(seed: 3)
        let grids = model.imageGrids(from: held, rng: &rng)
        #expect(grids.map(\.name) == ["reconstructions", "interpolation"])
        #expect(grids[0].images.shape == [noise > 0 ? 24 : 16, 1, 8, 8] && grids[1].images.shape == [40, 1, 8, 8])
        #expect(grids.allSatisfy { $0.images.scalars.allSatisfy { $0 >= 0 && $0 <= 1 } })
    }

    @Test func vaeLearnsAndItsSamplesFollowTheReparameterisation() {
        Init.seed(4)
        let vae = VariationalAutoencoder(imageShape: [1, 8, 8], hidden: 64, latent: 4, seed: 5)
        let (first, last) = train(vae, steps: 300)
        #expect(last < 0.6 * first, "negative ELBO \(first) -> \(last)")
        // z = μ + σ·ε: over many draws the sample mean is μ and its spread σ.
        let logQuarter: Float = -1.3862944  // log σ² for σ = 0.5
        let mean = Tensor(NDArray(repeating: 0.7, shape: [4000, 1]))
        let logVariance = Tensor(NDArray(repeating: logQuarter, shape: [4000, 1]))
        let z: [Double] = withNoGrad { vae.reparameterise(mean: mean, logVariance: logVariance) }.values.scalars.map {
            Double($0)
        }
        let m: Double = z.reduce(0, +) / 4000
        let sd: Double = (z.map { ($0 - m) * ($0 - m) }.reduce(0, +) / 4000).squareRoot()
        #expect(abs(m - 0.7) < 0.03 && abs(sd - 0.5) < 0.03, "mean \(m), std \(sd)")
        var rng = PhiloxRNG(seed: 3)
        let grids = vae.imageGrids(from: bars(16, seed: 8), rng: &rng)
        #expect(grids.map(\.name) == ["reconstructions", "samples", "interpolation"])
        #expect(grids[1].images.shape == [64, 1, 8, 8])
    }
}

@Suite("DCGAN")
struct DCGANTests {
    @Test func shapesRangesAndWhichPlayerGetsGradients() {
        Init.seed(6)
        let gan = DCGAN(imageShape: [1, 28, 28], latent: 16, width: 8, seed: 1)
        var rng = PhiloxRNG(seed: 2)
        let images = gan.generate(count: 5, rng: &rng)
        #expect(images.shape == [5, 1, 28, 28] && images.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(gan.training, "generate restores training mode")
        let arena = gan.flattenParameters()
        let isGenerator = arena.entries.map { $0.name.hasPrefix(gan.generatorPrefix) }
        func gradientNorms() -> (generator: Float, discriminator: Float) {
            var g: Float = 0, d: Float = 0
            for (e, gen) in zip(arena.entries, isGenerator) {
                let s = (0..<e.count).reduce(Float(0)) { $0 + abs(arena.grads.ptr[e.offset + $1]) }
                if gen { g += s } else { d += s }
            }
            return (g, d)
        }
        // The discriminator's loss does not reach the generator (its images are generated without a graph).
        gan.discriminatorLoss(real: NDArray(repeating: 0.5, shape: [4, 1, 28, 28])).backward()
        let afterD = gradientNorms()
        #expect(afterD.generator == 0 && afterD.discriminator > 0)
        arena.zeroGrad()
        // The generator's loss reaches the generator through the discriminator.
        gan.generatorLoss(count: 4).backward()
        #expect(gradientNorms().generator > 0)
        // DCGAN's initialisation: conv and linear weights N(0, 0.02), norm scales around 1.
        let w = gan.discriminator.downsample2.weight.scalars
        #expect(abs((w.reduce(0) { $0 + $1 * $1 } / Float(w.count)).squareRoot() - 0.02) < 0.002)
        #expect(abs(gan.generator.norm1.weight!.scalars.reduce(0, +) / 8 - 1) < 0.05)
    }

    /// Alternating updates on images of bars: the generated images move from the flat grey of
    /// an untrained generator to the data's brightness (a dark background with bright bars).
    @Test func generatorLearnsTheDataStatistics() {
        Init.seed(8)
        let gan = DCGAN(imageShape: [1, 8, 8], latent: 8, width: 8, seed: 3)
        let arena = gan.flattenParameters()
        func adam(_ prefix: String) -> Adam {
            Adam(
                arena, learningRate: 2e-3, beta1: 0.5,
                groups: ParameterGroups(arena, weightDecay: 0, including: { $0.hasPrefix(prefix) }))
        }
        let (generatorAdam, discriminatorAdam) = (adam(gan.generatorPrefix), adam(gan.discriminatorPrefix))
        let data = bars(256, seed: 7)
        func meanPixel() -> Double {  // the data's is 15/64 ≈ 0.234: one bright row and one bright column
            var rng = PhiloxRNG(seed: 1)
            let images = gan.generate(count: 64, rng: &rng).scalars
            return images.reduce(0.0) { $0 + Double($1) } / Double(images.count)
        }
        let before = meanPixel()
        for step in 0..<300 {
            let lo = (step * 32) % 256
            gan.discriminatorLoss(real: Layout.slice(data, axis: 0, start: lo, end: lo + 32)).backward()
            discriminatorAdam.step()
            arena.zeroGrad()
            gan.generatorLoss(count: 32).backward()
            generatorAdam.step()
            arena.zeroGrad()
        }
        let after = meanPixel()
        #expect(
            abs(after - 0.234) < 0.5 * abs(before - 0.234), "mean generated pixel: \(before) -> \(after) (data: 0.234)")
    }
}
