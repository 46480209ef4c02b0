import NN

/// A generator and a discriminator trained against each other in alternating updates
/// (Goodfellow et al., 2014): the trainer takes a discriminator step on real and generated
/// images, then a generator step, each with its own optimizer over its own parameters.
public protocol AdversarialModel: TrainableModel {
    /// Dotted-name prefixes of the two players' parameters ("generator.", "discriminator.").
    var generatorPrefix: String { get }
    var discriminatorPrefix: String { get }
    /// The discriminator's loss on real images and as many fresh generated ones (the
    /// generator's output is not differentiated).
    /// - Parameter real: (N, C, H, W) images with pixels in [0, 1].
    func discriminatorLoss(real: NDArray) -> Tensor
    /// The generator's loss: how well `count` fresh images fool the discriminator.
    func generatorLoss(count: Int) -> Tensor
    /// `count` generated images with pixels in [0, 1], (count, C, H, W), in evaluation mode.
    func generate(count: Int, rng: inout PhiloxRNG) -> NDArray
}
