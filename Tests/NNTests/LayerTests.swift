import NN
import Testing

/// Layers whose ops are checked elsewhere (gradient table, kernel references), here as
/// layers: weight layout and default initialisation as in PyTorch, output shape, and a
/// gradient reaching every parameter.
@Suite("Layers as PyTorch builds them", .serialized)
struct LayerTests {
    /// Runs backward on the sum of `y` and returns each parameter's largest |gradient|.
    func gradientMagnitudes(_ y: Tensor, _ layer: any Module) -> [String: Float] {
        y.sum().backward()
        return Dictionary(
            uniqueKeysWithValues: layer.namedParameters().map { name, p in
                (name, p.grad?.scalars.map { Swift.abs($0) }.max() ?? 0)
            })
    }

    @Test func convTranspose2dUpsamples() {
        Init.seed(11)
        let layer = ConvTranspose2d(
            4, 6, kernel: (3, 3), stride: (2, 2), padding: (1, 1), outputPadding: (1, 1), groups: 2)
        #expect(layer.weight.shape == [4, 3, 3, 3])  // (Cin, Cout/groups, KH, KW)
        // PyTorch's fan-in for this weight is Cout/groups · KH · KW = 27.
        let bound = 1 / Float(27).squareRoot()
        #expect(layer.bias!.scalars.allSatisfy { Swift.abs($0) <= bound })
        let y = layer(Tensor(Init.normal([2, 4, 5, 5])))
        #expect(y.shape == [2, 6, 10, 10])  // (5 - 1)·2 - 2 + 2 + 1 + 1
        #expect(gradientMagnitudes(y, layer).values.allSatisfy { $0 > 0 })
    }

    @Test func avgPool2dAverages() {
        let layer = AvgPool2d(kernel: 2)
        let y = layer(Tensor((1...16).map(Float.init), shape: [1, 1, 4, 4]))
        #expect(y.shape == [1, 1, 2, 2])
        #expect(y.scalars == [3.5, 5.5, 11.5, 13.5])
    }

    @Test func embeddingLooksUpRows() {
        Init.seed(12)
        let layer = Embedding(1000, 8)
        let w = layer.weight.scalars
        let mean = w.reduce(0, +) / Float(w.count)
        let std = (w.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(w.count)).squareRoot()
        #expect(Swift.abs(std - 1) < 0.05)  // N(0, 1), as nn.Embedding
        let ids = NDArray(indices: [3, 999, 3, 0, 5, 7], shape: [2, 3])
        let y = layer(ids)
        #expect(y.shape == [2, 3, 8])
        #expect(Array(y.scalars[0..<8]) == Array(w[24..<32]))
        y.sum().backward()
        let g = layer.weight.grad!.scalars
        #expect(g[3 * 8] == 2 && g[999 * 8] == 1 && g[1 * 8] == 0)  // row 3 used twice, row 1 never
    }

    @Test func layerNormNormalisesRows() {
        let layer = LayerNorm(6)
        let y = layer(Tensor([1, 2, 3, 4, 5, 6, -3, 0, 3, 9, 1, 2], shape: [2, 6]))
        for r in 0..<2 {
            let row = Array(y.scalars[(r * 6)..<(r * 6 + 6)])
            let mean = row.reduce(0, +) / 6
            let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 6
            #expect(Swift.abs(mean) < 1e-5 && Swift.abs(variance - 1) < 1e-3)
        }
        #expect(layer.namedParameters().map(\.0) == ["weight", "bias"])
        #expect(LayerNorm(6, affine: false).namedParameters().isEmpty)
        let grads = gradientMagnitudes(
            layer(Tensor([1, 2, 3, 4, 5, 7], shape: [1, 6])) * Tensor([1, 0, 2, 0, 0, 1], shape: [6]), layer)
        #expect(grads.values.allSatisfy { $0 > 0 })
    }

    @Test func retainedGradientOfAnIntermediate() {
        let x = Tensor([1, 2, 3], shape: [3], requiresGrad: true)
        let h = x * x
        h.retainsGrad = true
        (h * 2).sum().backward()
        #expect(h.grad!.scalars == [2, 2, 2])
        #expect(x.grad!.scalars == [4, 8, 12])
    }
}
