import NN

/// The DCGAN generator (Radford et al., 2016): a code z to an image through a linear
/// projection and transposed convolutions that double the resolution, with batch norm and
/// ReLU between them and tanh at the end.
public final class DCGANGenerator: Module {
    public var training = true
    public let projection: Linear
    public let projectionNorm: BatchNorm
    public let upsample1: ConvTranspose2d
    public let norm1: BatchNorm
    public let upsample2: ConvTranspose2d
    /// The projection's feature maps (channels, H/4, W/4), the first transposed convolution's input.
    public let start: (channels: Int, height: Int, width: Int)

    /// - Parameters:
    ///   - latent: dimensions of z.
    ///   - width: feature maps before the last layer (twice as many before that).
    ///   - imageShape: (C, H, W), H and W multiples of 4.
    public init(latent: Int, width: Int, imageShape: [Int]) {
        start = (2 * width, imageShape[1] / 4, imageShape[2] / 4)
        projection = Linear(latent, start.channels * start.height * start.width, bias: false)
        projectionNorm = BatchNorm(start.channels)
        upsample1 = ConvTranspose2d(2 * width, width, kernel: (4, 4), stride: (2, 2), padding: (1, 1), bias: false)
        norm1 = BatchNorm(width)
        upsample2 = ConvTranspose2d(width, imageShape[0], kernel: (4, 4), stride: (2, 2), padding: (1, 1))
    }

    /// (N, latent) -> (N, C, H, W) in [-1, 1].
    public func callAsFunction(_ z: Tensor) -> Tensor {
        let x = projection(z).reshaped([z.shape[0], start.channels, start.height, start.width])  // (N, 2w, H/4, W/4)
        let h = norm1(upsample1(projectionNorm(x).relu())).relu()  // (N, w, H/2, W/2)
        return upsample2(h).tanh()  // (N, C, H, W)
    }
}

/// The DCGAN discriminator: strided convolutions that halve the resolution, LeakyReLU(0.2),
/// batch norm after the first, and one logit for "real".
public final class DCGANDiscriminator: Module {
    public var training = true
    public let downsample1: Conv2d
    public let downsample2: Conv2d
    public let norm2: BatchNorm
    public let classifier: Linear

    /// - Parameters:
    ///   - width: feature maps of the first layer (twice as many in the second).
    ///   - imageShape: (C, H, W), H and W multiples of 4.
    public init(width: Int, imageShape: [Int]) {
        downsample1 = Conv2d(imageShape[0], width, kernel: 4, stride: 2, padding: 1)
        downsample2 = Conv2d(width, 2 * width, kernel: 4, stride: 2, padding: 1, bias: false)
        norm2 = BatchNorm(2 * width)
        classifier = Linear(2 * width * (imageShape[1] / 4) * (imageShape[2] / 4), 1)
    }

    /// (N, C, H, W) in [-1, 1] -> logits (N, 1).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let h = downsample1(x).leakyRelu(slope: 0.2)  // (N, w, H/2, W/2)
        let g = norm2(downsample2(h)).leakyRelu(slope: 0.2)  // (N, 2w, H/4, W/4)
        return classifier(g.flattened(from: 1))
    }
}

/// A DCGAN for small images with pixels in [0, 1] (scaled to [-1, 1] for the networks): the
/// non-saturating generator loss -log D(G(z)) and the discriminator's binary cross-entropy
/// on real against generated images, both from DCGAN's N(0, 0.02) initialisation.
public final class DCGAN: AdversarialModel, ImageGridReporter, RandomStreamOwner {
    public var training = true
    public let generator: DCGANGenerator
    public let discriminator: DCGANDiscriminator
    public let latent: Int
    public let imageShape: [Int]
    /// Draws z for training steps.
    public var rng: PhiloxRNG

    public var generatorPrefix: String { "generator." }
    public var discriminatorPrefix: String { "discriminator." }

    /// - Parameters:
    ///   - imageShape: (C, H, W), H and W multiples of 4.
    ///   - latent: dimensions of z.
    ///   - width: base feature maps of both networks (64 in the paper).
    ///   - seed: the stream of z.
    public init(imageShape: [Int], latent: Int, width: Int, seed: UInt64 = 0) {
        precondition(
            imageShape.count == 3 && imageShape[1] % 4 == 0 && imageShape[2] % 4 == 0,
            "DCGAN needs (C, H, W) images with H and W multiples of 4, got \(imageShape)")
        generator = DCGANGenerator(latent: latent, width: width, imageShape: imageShape)
        discriminator = DCGANDiscriminator(width: width, imageShape: imageShape)
        (self.latent, self.imageShape, rng) = (latent, imageShape, PhiloxRNG(seed: seed))
        // Section 4 of the paper: weights N(0, 0.02); batch norm scales N(1, 0.02), shifts 0.
        for (name, p) in namedParameters() {
            if name.contains("orm") {
                p.data = name.hasSuffix("weight") ? Init.normal(p.shape, mean: 1, std: 0.02) : Init.zeros(p.shape)
            } else {
                p.data = name.hasSuffix("bias") ? Init.zeros(p.shape) : Init.normal(p.shape, std: 0.02)
            }
        }
    }

    func noise(_ count: Int, _ rng: inout PhiloxRNG) -> Tensor {
        let z = NDArray(shape: [count, latent], zeroed: false)
        rng.fillNormal(z.ptr, z.count)
        return Tensor(z)
    }

    /// BCE(D(2x - 1), 1) + BCE(D(G(z)), 0), averaged over the batch.
    public func discriminatorLoss(real: NDArray) -> Tensor {
        let n = real.shape[0]
        let fake = withNoGrad { generator(noise(n, &rng)).values }
        let realLogits = discriminator(Tensor(real) * 2 - 1), fakeLogits = discriminator(Tensor(fake))
        return Loss.bceWithLogits(realLogits, Tensor(NDArray(repeating: 1, shape: [n, 1])))
            + Loss.bceWithLogits(fakeLogits, Tensor(NDArray(shape: [n, 1])))
    }

    /// BCE(D(G(z)), 1): the non-saturating loss (section 3 of Goodfellow et al.).
    public func generatorLoss(count: Int) -> Tensor {
        Loss.bceWithLogits(
            discriminator(generator(noise(count, &rng))), Tensor(NDArray(repeating: 1, shape: [count, 1])))
    }

    /// The discriminator's loss on held-out real images (the evaluation's `loss`).
    public func loss(inputs: NDArray, targets: NDArray, labelSmoothing: Float) -> Tensor {
        discriminatorLoss(real: inputs)
    }

    public func generate(count: Int, rng: inout PhiloxRNG) -> NDArray {
        let wasTraining = training
        eval()
        defer { train(wasTraining) }
        return withNoGrad { (generator(noise(count, &rng)) * 0.5 + 0.5).values }
    }

    /// samples: 64 images from the same z every epoch (seed 0), so the grids show progress.
    public func imageGrids(from images: NDArray, rng: inout PhiloxRNG) -> [(
        name: String, images: NDArray, columns: Int
    )] {
        var fixed = PhiloxRNG(seed: 0)
        return [("samples", generate(count: 64, rng: &fixed), 8)]
    }
}
