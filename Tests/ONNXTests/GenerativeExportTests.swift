import Models
import NN
import ONNX
import Testing

/// The autoencoders, the VAE's decoder and DCGAN's generator against onnxruntime.
@Suite("ONNX export: generative models against onnxruntime")
struct GenerativeExportTests {
    typealias Check = ONNXRuntimeCheck

    static func images(_ seed: UInt64) -> NDArray { Check.floats([4, 1, 4, 4], seed: seed, unit: true) }

    @Test(arguments: [Float(0), 0.2])
    func autoencoder(noise: Float) throws {
        let model = Autoencoder(imageShape: [1, 4, 4], hidden: 8, code: 3, noise: noise)
        Check.train(model, batches: (0..<3).map { (Self.images(UInt64($0)), Self.images(UInt64($0))) })
        let x = Check.floats([3, 1, 4, 4], seed: 92, unit: true)
        let (code, image) = withNoGrad {
            let code = model.encode(Tensor(x))
            return (code.values, model.decode(code).sigmoid().values.reshaped([3, 1, 4, 4]))
        }
        let error = try Check.check(
            "autoencoder-\(noise)", model, input: .init(shape: [1, 4, 4], tokens: false), feeds: [("input", x)],
            expected: [("code", code), ("reconstruction", image)]
        ).error
        #expect(error < Check.tolerance)
    }

    @Test func variationalDecoder() throws {
        let model = VariationalAutoencoder(imageShape: [1, 4, 4], hidden: 8, latent: 2)
        Check.train(model, batches: (0..<3).map { (Self.images(UInt64($0)), Self.images(UInt64($0))) })
        let z = Check.floats([3, 2], seed: 91)
        let image = withNoGrad { model.decode(Tensor(z)).sigmoid().values }.reshaped([3, 1, 4, 4])
        let error = try Check.check(
            "vae-decoder", model, input: .init(shape: [1, 4, 4], tokens: false), feeds: [("z", z)],
            expected: [("image", image)]
        ).error
        #expect(error < Check.tolerance)
    }

    @Test func dcganGenerator() throws {
        let model = DCGAN(imageShape: [1, 8, 8], latent: 4, width: 4)
        // From DCGAN's N(0, 0.02) weights the images are 0.5 within 1e-4: wider weights spread
        // them over tanh's range, so the comparison sees the layers and not the final offset.
        for (name, p) in model.generator.namedParameters() where !name.contains("orm") {
            p.data = Init.normal(p.shape, std: 0.5)
        }
        let real = (0..<3).map { s in Check.floats([4, 1, 8, 8], seed: 40 + UInt64(s), unit: true) }
        Check.train(model, batches: real.map { ($0, $0) })
        let z = Check.floats([3, 4], seed: 90)
        let image = withNoGrad { (model.generator(Tensor(z)) * 0.5 + 0.5).values }
        #expect(image.scalars.max()! - image.scalars.min()! > 0.5)
        let error = try Check.check(
            "dcgan-generator", model, input: .init(shape: [1, 8, 8], tokens: false), feeds: [("z", z)],
            expected: [("image", image)]
        ).error
        #expect(error < Check.tolerance)
    }
}
