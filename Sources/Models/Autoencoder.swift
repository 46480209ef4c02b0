import NN

/// A fully connected autoencoder for images in [0, 1] (Hinton and Salakhutdinov, 2006): an
/// encoder to a small code, a decoder back to pixel logits, trained with binary cross-entropy
/// against the clean image. With `noise` > 0 it is the denoising autoencoder of Vincent et al.
/// (2008): during training the input is corrupted with Gaussian noise, and the clean image
/// remains the target, so the code has to capture structure rather than copy pixels.
public final class Autoencoder: TrainableModel, ImageGridReporter, RandomStreamOwner {
    public var training = true
    public let encoderHidden: Linear
    public let encoderCode: Linear
    public let decoderHidden: Linear
    public let decoderOutput: Linear
    public let imageShape: [Int]
    /// Standard deviation of the training corruption (0: a plain autoencoder).
    public let noise: Float
    public var rng: PhiloxRNG

    /// - Parameters:
    ///   - imageShape: (C, H, W).
    ///   - hidden: width of the hidden layer on each side.
    ///   - code: width of the code.
    ///   - noise: Gaussian corruption of the training inputs (clipped to [0, 1]); 0 for none.
    ///   - seed: the corruption's random stream.
    public init(imageShape: [Int], hidden: Int, code: Int, noise: Float = 0, seed: UInt64 = 0) {
        let pixels = imageShape.reduce(1, *)
        encoderHidden = Linear(pixels, hidden)
        encoderCode = Linear(hidden, code)
        decoderHidden = Linear(code, hidden)
        decoderOutput = Linear(hidden, pixels)
        (self.imageShape, self.noise, rng) = (imageShape, noise, PhiloxRNG(seed: seed))
    }

    /// The code of each image: (N, C, H, W) -> (N, code).
    public func encode(_ x: Tensor) -> Tensor { encoderCode(encoderHidden(x.flattened(from: 1)).relu()) }

    /// Pixel logits of each code: (N, code) -> (N, C·H·W); sigmoid gives the image.
    public func decode(_ z: Tensor) -> Tensor { decoderOutput(decoderHidden(z).relu()) }

    /// Summed binary cross-entropy per image, averaged over the batch (nats per image).
    public func loss(inputs: NDArray, targets: NDArray, labelSmoothing: Float) -> Tensor {
        let clean = Tensor(inputs).flattened(from: 1)
        let seen = training && noise > 0 ? Tensor(corrupted(inputs, rng: &rng)) : Tensor(inputs)
        return Loss.bceWithLogits(decode(encode(seen)), clean) * Float(clean.shape[1])
    }

    /// x + noise·ε, clipped to [0, 1].
    func corrupted(_ x: NDArray, rng: inout PhiloxRNG) -> NDArray {
        let y = NDArray(shape: x.shape, zeroed: false)
        rng.fillNormal(y.ptr, y.count, std: noise)
        for i in 0..<y.count { y.ptr[i] = min(1, max(0, x.ptr[i] + y.ptr[i])) }
        return y
    }

    /// reconstructions (rows of originals, then their reconstructions; for the denoising
    /// model also the corrupted inputs) and interpolation (rows from one image's code to
    /// another's, decoded).
    public func imageGrids(from images: NDArray, rng: inout PhiloxRNG) -> [(
        name: String, images: NDArray, columns: Int
    )] {
        withNoGrad {
            let n = min(images.shape[0], 8)
            let shown = Layout.slice(images, axis: 0, start: 0, end: n)
            let input = noise > 0 ? corrupted(shown, rng: &rng) : shown
            let reconstructed = decode(encode(Tensor(input))).sigmoid().values.reshaped(Shape([n] + imageShape))
            let rows = noise > 0 ? [shown, input, reconstructed] : [shown, reconstructed]
            return [
                ("reconstructions", Layout.concat(rows, axis: 0), n),
                (
                    "interpolation",
                    LatentInterpolation.grid(
                        images: images, steps: 10, encode: { encode(Tensor($0)) },
                        decode: { decode($0).sigmoid() }, imageShape: imageShape), 10
                ),
            ]
        }
    }
}

/// Straight lines between the codes of pairs of images, decoded: how smooth the code space is.
enum LatentInterpolation {
    /// Rows of `steps` images, from image 2i's code to image 2i+1's, for up to 4 pairs.
    static func grid(
        images: NDArray, steps: Int, encode: (NDArray) -> Tensor, decode: (Tensor) -> Tensor, imageShape: [Int]
    ) -> NDArray {
        let pairs = min(4, images.shape[0] / 2)
        let codes = encode(Layout.slice(images, axis: 0, start: 0, end: 2 * pairs)).values  // (2·pairs, Z)
        let z = codes.shape[1]
        var mixed: [Float] = []
        for p in 0..<pairs {
            let a = codes.ptr + 2 * p * z, b = codes.ptr + (2 * p + 1) * z
            for s in 0..<steps {
                let t = Float(s) / Float(steps - 1)
                mixed += (0..<z).map { (1 - t) * a[$0] + t * b[$0] }
            }
        }
        return decode(Tensor(NDArray(mixed, shape: [pairs * steps, z]))).values.reshaped(
            Shape([pairs * steps] + imageShape))
    }
}
