import Foundation
import NN
import Testing

/// Int8 linear layers, convolutions and recurrent input projections against a naive
/// reference: the fp32 op on the input quantized and dequantized with the calibrated scale,
/// and on the int8 weights dequantized.
@Suite("Int8 layers", .serialized)
struct Int8LayerTests {
    /// Inputs with a range that is not symmetric about zero, so the zero point matters.
    static func input(_ shape: Shape, seed: UInt64) -> NDArray {
        var rng = PhiloxRNG(seed: seed)
        let x = NDArray(shape: shape, zeroed: false)
        rng.fillUniform(x.ptr, x.count, low: -0.7, high: 1.9)
        return x
    }

    /// The largest difference, relative to the reference's largest magnitude.
    static func relativeError(_ a: [Float], _ reference: [Float]) -> Float {
        let spread = max(reference.map(\.magnitude).max() ?? 0, 1e-6)
        return zip(a, reference).map { Swift.abs($0 - $1) }.max()! / spread
    }

    /// Sets an observer through `set`, runs `run` (the layer on the calibration input) and returns it.
    static func calibrated(_ x: NDArray, set: (Int8Mode) -> Void, run: () -> Void) -> ActivationObserver {
        let observer = ActivationObserver()
        set(.observing(observer))
        run()
        return observer
    }

    /// Odd shapes (k not a multiple of 4, n not of 16), a 3-D input, with and without bias.
    @Test func linearMatchesTheDequantizedReference() {
        Init.seed(11)
        for (k, n, hasBias) in [(13, 19, true), (4, 1, false), (37, 33, true)] {
            let layer = Linear(k, n, bias: hasBias)
            let x = Self.input([3, 7, k], seed: UInt64(k))
            let fp32 = layer(Tensor(x)).scalars
            let observer = Self.calibrated(x, set: { layer.int8 = $0 }) { #expect(layer(Tensor(x)).scalars == fp32) }
            #expect(observer.low == x.scalars.min()! && observer.high == x.scalars.max()!)
            let w = Int8Weights(
                weight: layer.weight.data, bias: layer.bias?.data, inputRange: (observer.low, observer.high))
            layer.int8 = .quantized(w)
            let y = layer(Tensor(x))
            #expect(y.shape.dims == [3, 7, n])
            let reference = linear(
                Tensor(w.fakeQuantizedInput(x)), weight: Tensor(w.dequantizedWeight()),
                bias: hasBias ? Tensor(NDArray(w.bias, shape: [n])) : nil
            ).scalars
            #expect(Self.relativeError(y.scalars, reference) < 1e-5, "k \(k) n \(n)")
            #expect(Self.relativeError(y.scalars, fp32) < 0.03, "k \(k) n \(n): int8 against fp32")
            // Per output channel: each row's largest weight maps to ±127.
            let values = w.values.scalars
            for row in 0..<n { #expect(values[row * k..<(row + 1) * k].map(\.magnitude).max() == 127) }
        }
    }

    /// Plain, strided and dilated, grouped and depthwise (with a channel multiplier) convolutions.
    @Test func convolutionsMatchTheDequantizedReference() {
        Init.seed(12)
        let cases: [(c: Int, oc: Int, kernel: (Int, Int), stride: Int, padding: Int, dilation: Int, groups: Int)] = [
            (3, 5, (3, 3), 1, 1, 1, 1), (4, 6, (3, 2), 2, 1, 1, 2), (3, 6, (3, 3), 1, 1, 1, 3),
            (5, 5, (5, 5), 2, 2, 1, 5), (2, 7, (3, 3), 1, 2, 2, 1), (6, 9, (1, 1), 1, 0, 1, 3),
        ]
        for (i, t) in cases.enumerated() {
            let conv = Conv2d(
                t.c, t.oc, kernel: t.kernel, stride: (t.stride, t.stride), padding: (t.padding, t.padding),
                dilation: (t.dilation, t.dilation), groups: t.groups, bias: i % 2 == 0)
            let x = Self.input([3, t.c, 9, 11], seed: UInt64(20 + i))
            let fp32 = conv(Tensor(x))
            let observer = Self.calibrated(x, set: { conv.int8 = $0 }) {
                #expect(conv(Tensor(x)).scalars == fp32.scalars)
            }
            let w = Int8Weights(
                weight: conv.weight.data, bias: conv.bias?.data, groups: t.groups,
                inputRange: (observer.low, observer.high))
            conv.int8 = .quantized(w)
            let y = conv(Tensor(x))
            #expect(y.shape == fp32.shape, "case \(i)")
            let reference = conv2d(
                Tensor(w.fakeQuantizedInput(x)), weight: Tensor(w.dequantizedWeight()),
                bias: conv.bias == nil ? nil : Tensor(NDArray(w.bias, shape: [t.oc])),
                stride: conv.stride, padding: conv.padding, dilation: conv.dilation, groups: t.groups
            ).scalars
            #expect(Self.relativeError(y.scalars, reference) < 1e-5, "case \(i)")
            #expect(Self.relativeError(y.scalars, fp32.scalars) < 0.03, "case \(i): int8 against fp32")
        }
    }

    /// The recurrent stacks' input projections, on vectors and on token ids through an
    /// embedding (the projected-table path): the same as the fp32 stack with the dequantized
    /// W_ih on the fake-quantized inputs.
    @Test func recurrentInputProjectionsMatchTheReference() {
        for kind in [Recurrent.Kind.rnn, .lstm, .gru] {
            Init.seed(13)
            let net = Recurrent(kind, inputSize: 6, hiddenSize: 5, layers: 2)
            let x = Self.input([2, 4, 6], seed: 30)
            let fp32 = net(Tensor(x)).output.scalars
            let observers = [ActivationObserver(), ActivationObserver()]
            net.int8Projections = [0: .observing(observers[0]), 1: .observing(observers[1])]
            #expect(net(Tensor(x)).output.scalars == fp32)
            #expect(observers.allSatisfy { $0.low < $0.high })
            let weights = net.layers.enumerated().map { l, cell in
                Int8Weights(
                    weight: cell.weightIH.data, bias: cell.biasIH.data,
                    inputRange: (observers[l].low, observers[l].high))
            }
            net.int8Projections = [0: .quantized(weights[0]), 1: .quantized(weights[1])]
            let y = net(Tensor(x)).output.scalars
            // The reference: the first layer on the fake-quantized input, whose outputs are
            // fake-quantized again for the second layer's projection.
            Init.seed(13)
            let reference = Recurrent(kind, inputSize: 6, hiddenSize: 5, layers: 2)
            for (l, cell) in reference.layers.enumerated() {
                cell.weightIH.data.assign(weights[l].dequantizedWeight())
                cell.biasIH.data.assign(NDArray(weights[l].bias, shape: [weights[l].outputs]))
            }
            let first = Recurrent(kind, cells: [reference.layers[0]]),
                second = Recurrent(kind, cells: [reference.layers[1]])
            let hidden = first(Tensor(weights[0].fakeQuantizedInput(x))).output
            let expected = second(Tensor(weights[1].fakeQuantizedInput(hidden.values))).output.scalars
            #expect(Self.relativeError(y, expected) < 1e-4, "\(kind)")
            #expect(Self.relativeError(y, fp32) < 0.05, "\(kind): int8 against fp32")

            // Token ids: the table's projection is int8 too, and agrees with embedding first.
            let table = Embedding(7, 6)
            let tokens = NDArray(indices: (0..<24).map { Int32($0 % 7) }, shape: [2, 12])
            net.int8Projections = [:]
            let observer = ActivationObserver()
            net.int8Projections = [0: .observing(observer)]
            _ = net(tokens: tokens, embeddedBy: table)
            let w0 = Int8Weights(
                weight: net.layers[0].weightIH.data, bias: net.layers[0].biasIH.data,
                inputRange: (observer.low, observer.high))
            net.int8Projections = [0: .quantized(w0)]
            let viaTable = net(tokens: tokens, embeddedBy: table).output.scalars
            let viaRows = net(table(tokens)).output.scalars
            #expect(Self.relativeError(viaTable, viaRows) < 1e-5, "\(kind): table path")
        }
    }

    /// Percentile calibration clips the rare outliers that minmax keeps.
    @Test func percentileCalibrationClipsOutliers() {
        let observer = ActivationObserver(samplesPerBatch: 10_000)
        var values = (0..<10_000).map { Float($0) / 10_000 }
        values[17] = 50
        observer.observe(NDArray(values, shape: [10_000]))
        #expect(observer.range(percentile: nil) == (0, 50))
        let clipped = observer.range(percentile: 99)
        #expect(clipped.high < 1 && clipped.high > 0.98 && clipped.low < 0.02)
        #expect(ActivationObserver().range(percentile: nil) == (0, 0))
    }
}
