import Models
import NN

extension ONNXExport {
    /// The autoencoder (plain or denoising): images to their code and their reconstruction in [0, 1].
    static func autoencoder(_ m: Autoencoder, _ g: GraphBuilder) -> ([ONNXValue], [(String, ONNXValue)]) {
        let shape: [ONNXDim] = [.batch] + m.imageShape.map { .fixed($0) }
        let images = g.input("input", .float, shape)
        let h = g.unary(
            "Relu", g.linear(m.encoderHidden, g.flatten(images, scope: "input"), scope: "encoderHidden"),
            scope: "encoderHidden")
        let code = g.linear(m.encoderCode, h, scope: "encoderCode")
        let pixels = decoder(m.decoderHidden, m.decoderOutput, code, g)
        let image = g.reshape(
            g.unary("Sigmoid", pixels, scope: "reconstruction"), [-1] + m.imageShape, scope: "reconstruction",
            shape: shape)
        return ([images], [("code", code), ("reconstruction", image)])
    }

    /// The VAE's decoder, the generative half: a latent z (batch, latent) to an image in [0, 1].
    static func variationalDecoder(_ m: VariationalAutoencoder, _ g: GraphBuilder) -> (
        [ONNXValue], [(String, ONNXValue)]
    ) {
        let z = g.input("z", .float, [.batch, .fixed(m.latent)])
        let pixels = decoder(m.decoderHidden, m.decoderOutput, z, g)
        let image = g.reshape(
            g.unary("Sigmoid", pixels, scope: "image"), [-1] + m.imageShape, scope: "image",
            shape: [.batch] + m.imageShape.map { .fixed($0) })
        return ([z], [("image", image)])
    }

    /// Pixel logits of codes: Linear, ReLU, Linear.
    static func decoder(_ hidden: Linear, _ output: Linear, _ z: ONNXValue, _ g: GraphBuilder) -> ONNXValue {
        let h = g.unary("Relu", g.linear(hidden, z, scope: "decoderHidden"), scope: "decoderHidden")
        return g.linear(output, h, scope: "decoderOutput")
    }

    /// DCGAN's generator: z (batch, latent) to an image in [0, 1], as `DCGAN.generate` gives it.
    static func dcganGenerator(_ m: DCGAN, _ g: GraphBuilder) -> ([ONNXValue], [(String, ONNXValue)]) {
        let gen = m.generator
        let z = g.input("z", .float, [.batch, .fixed(m.latent)])
        let start = gen.start
        let projected = g.reshape(
            g.linear(gen.projection, z, scope: "generator.projection"),
            [-1, start.channels, start.height, start.width],
            scope: "generator.projection",
            shape: [.batch, .fixed(start.channels), .fixed(start.height), .fixed(start.width)])
        var h = g.unary(
            "Relu", g.batchNorm(gen.projectionNorm, projected, scope: "generator.projectionNorm"),
            scope: "generator.projectionNorm")
        h = g.convTranspose2d(gen.upsample1, h, scope: "generator.upsample1")
        h = g.unary("Relu", g.batchNorm(gen.norm1, h, scope: "generator.norm1"), scope: "generator.norm1")
        let tanh = g.unary("Tanh", g.convTranspose2d(gen.upsample2, h, scope: "generator.upsample2"), scope: "image")
        let image = g.add(g.scale(tanh, by: 0.5, scope: "image"), g.constant([0.5], shape: []), scope: "image")
        return ([z], [("image", image)])
    }
}
