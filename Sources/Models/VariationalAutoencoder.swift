import NN

/// The variational autoencoder of Kingma and Welling (2014) with their MLP encoder and
/// Bernoulli decoder: the encoder gives the mean and log-variance of q(z|x), z is drawn with
/// the reparameterisation trick z = μ + σ·ε (so gradients reach μ and σ), and the loss is the
/// negative evidence lower bound: reconstruction cross-entropy + KL(q(z|x) ‖ N(0, I)).
public final class VariationalAutoencoder: TrainableModel, ImageGridReporter, RandomStreamOwner {
    public var training = true
    public let encoderHidden: Linear
    public let encoderMean: Linear
    public let encoderLogVariance: Linear
    public let decoderHidden: Linear
    public let decoderOutput: Linear
    public let imageShape: [Int]
    public var rng: PhiloxRNG

    /// - Parameters:
    ///   - imageShape: (C, H, W), pixels in [0, 1].
    ///   - hidden: width of the hidden layer on each side (400 in the paper's MNIST runs).
    ///   - latent: dimensions of z.
    ///   - seed: the stream of ε.
    public init(imageShape: [Int], hidden: Int, latent: Int, seed: UInt64 = 0) {
        let pixels = imageShape.reduce(1, *)
        encoderHidden = Linear(pixels, hidden)
        encoderMean = Linear(hidden, latent)
        encoderLogVariance = Linear(hidden, latent)
        decoderHidden = Linear(latent, hidden)
        decoderOutput = Linear(hidden, pixels)
        (self.imageShape, rng) = (imageShape, PhiloxRNG(seed: seed))
    }

    public var latent: Int { encoderMean.weight.shape[0] }

    /// μ and log σ² of q(z|x): (N, C, H, W) -> (N, Z) each.
    public func encode(_ x: Tensor) -> (mean: Tensor, logVariance: Tensor) {
        let h = encoderHidden(x.flattened(from: 1)).relu()
        return (encoderMean(h), encoderLogVariance(h))
    }

    /// z = μ + exp(½ log σ²)·ε with ε ~ N(0, I) drawn here: the sample is a differentiable
    /// function of μ and σ.
    public func reparameterise(mean: Tensor, logVariance: Tensor) -> Tensor {
        let epsilon = NDArray(shape: mean.shape, zeroed: false)
        rng.fillNormal(epsilon.ptr, epsilon.count)
        return mean + (logVariance * 0.5).exp() * Tensor(epsilon)
    }

    /// Pixel logits of p(x|z): (N, Z) -> (N, C·H·W).
    public func decode(_ z: Tensor) -> Tensor { decoderOutput(decoderHidden(z).relu()) }

    /// The negative ELBO per image (nats), averaged over the batch.
    public func loss(inputs: NDArray, targets: NDArray, labelSmoothing: Float) -> Tensor {
        let x = Tensor(inputs)
        let (mean, logVariance) = encode(x)
        let logits = decode(reparameterise(mean: mean, logVariance: logVariance))
        let reconstruction = Loss.bceWithLogits(logits, x.flattened(from: 1)) * Float(logits.shape[1])
        return reconstruction + Loss.gaussianKL(mu: mean, logVariance: logVariance)
    }

    /// reconstructions (originals above their reconstructions from μ), samples (decoded
    /// draws from the prior N(0, I)) and interpolation (between the means of image pairs).
    public func imageGrids(from images: NDArray, rng: inout PhiloxRNG) -> [(
        name: String, images: NDArray, columns: Int
    )] {
        withNoGrad {
            let n = min(images.shape[0], 8)
            let shown = Layout.slice(images, axis: 0, start: 0, end: n)
            let reconstructed = decode(encode(Tensor(shown)).mean).sigmoid().values.reshaped(Shape([n] + imageShape))
            let prior = NDArray(shape: [64, latent], zeroed: false)
            rng.fillNormal(prior.ptr, prior.count)
            let samples = decode(Tensor(prior)).sigmoid().values.reshaped(Shape([64] + imageShape))
            return [
                ("reconstructions", Layout.concat([shown, reconstructed], axis: 0), n),
                ("samples", samples, 8),
                (
                    "interpolation",
                    LatentInterpolation.grid(
                        images: images, steps: 10, encode: { encode(Tensor($0)).mean },
                        decode: { decode($0).sigmoid() }, imageShape: imageShape), 10
                ),
            ]
        }
    }
}
