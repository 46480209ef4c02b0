import Foundation
import NN
import Testing

/// RNN, LSTM and GRU layers against plain Double implementations of PyTorch's equations.
@Suite("Recurrent layers")
struct RecurrentTests {
    static func sigmoid(_ v: Double) -> Double { 1 / (1 + Foundation.exp(-v)) }

    /// y = W·v + b for a row-major W (rows, cols).
    static func affine(_ w: [Float], _ b: [Float], _ v: [Double], rows: Int) -> [Double] {
        (0..<rows).map { r in Double(b[r]) + v.indices.reduce(0.0) { $0 + Double(w[r * v.count + $1]) * v[$1] } }
    }

    /// The final hidden state of each batch row, stepping PyTorch's equations in Double.
    static func reference(_ kind: Recurrent.Kind, cell: any RecurrentCell, x: NDArray) -> [[Double]] {
        let (b, t, i) = (x.shape[0], x.shape[1], x.shape[2]), h = cell.hiddenSize
        let cellMirror = Mirror(reflecting: cell).children.reduce(into: [String: Tensor]()) { d, c in
            if let l = c.label, let v = c.value as? Tensor { d[l] = v }
        }
        let wih = cellMirror["weightIH"]!.scalars, whh = cellMirror["weightHH"]!.scalars
        let bih = cellMirror["biasIH"]!.scalars, bhh = cellMirror["biasHH"]!.scalars
        let g = kind == .lstm ? 4 : kind == .gru ? 3 : 1
        return (0..<b).map { row in
            var hs = [Double](repeating: 0, count: h), cs = [Double](repeating: 0, count: h)
            for step in 0..<t {
                let xt = (0..<i).map { Double(x.ptr[(row * t + step) * i + $0]) }
                let a = affine(wih, bih, xt, rows: g * h), r = affine(whh, bhh, hs, rows: g * h)
                switch kind {
                case .rnn: hs = (0..<h).map { Foundation.tanh(a[$0] + r[$0]) }
                case .lstm:
                    for k in 0..<h {
                        let ig = sigmoid(a[k] + r[k]), fg = sigmoid(a[h + k] + r[h + k])
                        let gg = Foundation.tanh(a[2 * h + k] + r[2 * h + k]), og = sigmoid(a[3 * h + k] + r[3 * h + k])
                        cs[k] = fg * cs[k] + ig * gg
                        hs[k] = og * Foundation.tanh(cs[k])
                    }
                case .gru:
                    hs = (0..<h).map { k in
                        let rg = sigmoid(a[k] + r[k]), z = sigmoid(a[h + k] + r[h + k])
                        let n = Foundation.tanh(a[2 * h + k] + rg * r[2 * h + k])
                        return (1 - z) * n + z * hs[k]
                    }
                }
            }
            return hs
        }
    }

    @Test(arguments: [Recurrent.Kind.rnn, .lstm, .gru])
    func matchesTheEquations(kind: Recurrent.Kind) {
        Init.seed(4)
        let net = Recurrent(kind, inputSize: 5, hiddenSize: 7, layers: 1)
        var rng = PhiloxRNG(seed: 2)
        let x = NDArray(shape: [3, 6, 5], zeroed: false)
        rng.fillNormal(x.ptr, x.count)
        let (out, final) = net(Tensor(x))
        #expect(out.shape == [3, 6, 7] && final[0].count == (kind == .lstm ? 2 : 1))
        let ref = Self.reference(kind, cell: net.layers[0], x: x)
        for row in 0..<3 {
            for k in 0..<7 {
                #expect(Swift.abs(Double(final[0][0].scalars[row * 7 + k]) - ref[row][k]) < 1e-5)
                // The output sequence ends with the final hidden state.
                #expect(out.scalars[(row * 6 + 5) * 7 + k] == final[0][0].scalars[row * 7 + k])
            }
        }
        // PyTorch's names and initialisation bound 1/√H.
        let names = net.namedParameters().map(\.0)
        #expect(names == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"], "\(names)")
        #expect(net.parameters.allSatisfy { $0.scalars.allSatisfy { Swift.abs($0) <= 1 / Float(7).squareRoot() } })
    }

    /// The fused LSTM sequence op against the cell unrolled op by op (the definition), on
    /// random odd shapes: outputs, final states and every gradient.
    @Test func fusedLSTMMatchesTheUnrolledCell() {
        var rng = PhiloxRNG(seed: 21)
        func random(_ shape: Shape) -> Tensor {
            let a = NDArray(shape: shape, zeroed: false)
            rng.fillUniform(a.ptr, a.count, low: -1, high: 1)
            return Tensor(a, requiresGrad: true)
        }
        // The last shape splits its rows over two threads (see LSTMSequence.rowGrain).
        for (b, t, i, h) in [(3, 5, 4, 7), (1, 9, 3, 5), (2, 1, 6, 3), (16, 3, 5, 256)] {
            Init.seed(UInt64(b * 100 + t))
            let cell = LSTMCell(i, h)
            let x = random([b, t, i]), h0 = random([b, h]), c0 = random([b, h]), upstream = random([b, t, h]).values
            let layer = Recurrent(.lstm, cells: [cell])
            let fused = layer(x, initial: [[h0, c0]])
            (fused.output * Tensor(upstream)).sum().backward()
            let fusedGrads = [x, h0, c0, cell.weightIH, cell.weightHH, cell.biasIH, cell.biasHH].map {
                $0.grad!.scalars
            }
            for p in [x, h0, c0, cell.weightIH, cell.weightHH, cell.biasIH, cell.biasHH] { p.grad = nil }
            // The reference: the cell's own step, one op at a time.
            var state = [h0, c0], outputs: [Tensor] = []
            let projected = linear(x.reshaped([b * t, i]), weight: cell.weightIH, bias: cell.biasIH).reshaped([
                b, t, 4 * h,
            ])
            for step in 0..<t {
                state = cell.step(
                    projected: projected.slice(axis: 1, start: step, end: step + 1).reshaped([b, 4 * h]), state: state)
                outputs.append(state[0].reshaped([b, 1, h]))
            }
            let unrolled = concat(outputs, axis: 1)
            (unrolled * Tensor(upstream)).sum().backward()
            let close = { (a: [Float], r: [Float]) in zip(a, r).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) } }
            #expect(close(fused.output.values.scalars, unrolled.values.scalars), "outputs (\(b), \(t), \(i), \(h))")
            #expect(
                close(fused.final[0][1].values.scalars, state[1].values.scalars), "final c (\(b), \(t), \(i), \(h))")
            let names = ["x", "h0", "c0", "W_ih", "W_hh", "b_ih", "b_hh"]
            for (k, p) in [x, h0, c0, cell.weightIH, cell.weightHH, cell.biasIH, cell.biasHH].enumerated() {
                #expect(close(fusedGrads[k], p.grad!.scalars), "gradient of \(names[k]) (\(b), \(t), \(i), \(h))")
            }
        }
    }

    /// The fused LSTM's backward writes its gate gradients over the saved gates only when the
    /// graph is released: a retained graph gives the same gradients a second time.
    @Test func fusedLSTMBackwardTwiceWithARetainedGraph() {
        Init.seed(3)
        var rng = PhiloxRNG(seed: 8)
        let x = NDArray(shape: [4, 5, 3], zeroed: false), upstream = NDArray(shape: [4, 5, 6], zeroed: false)
        rng.fillUniform(x.ptr, x.count, low: -1, high: 1)
        rng.fillUniform(upstream.ptr, upstream.count, low: -1, high: 1)
        let layer = Recurrent(.lstm, inputSize: 3, hiddenSize: 6, layers: 1)
        let loss = (layer(Tensor(x)).output * Tensor(upstream)).sum()
        loss.backward(retainGraph: true)
        let once = layer.parameters.map { $0.grad!.scalars }
        #expect(once.allSatisfy { $0.contains { $0 != 0 } })
        loss.backward()  // releases the graph: the gates are overwritten now, after their last use
        for (p, g) in zip(layer.parameters, once) {
            #expect(zip(p.grad!.scalars, g).allSatisfy { abs($0 - 2 * $1) <= 1e-6 * max(1, abs($1)) })
        }
    }

    /// Token ids through the projected embedding table (fewer rows than tokens) give the
    /// outputs and gradients of embedding first, then projecting: every kind, two layers.
    @Test(arguments: [Recurrent.Kind.rnn, .lstm, .gru])
    func tokensThroughTheProjectedTableMatchEmbeddingFirst(kind: Recurrent.Kind) {
        Init.seed(9)
        let (b, t, vocabulary) = (3, 7, 5)
        let table = Embedding(vocabulary, 4), net = Recurrent(kind, inputSize: 4, hiddenSize: 6, layers: 2)
        let tokens = NDArray(indices: (0..<(b * t)).map { Int32(($0 * 3 + $0 / 4) % vocabulary) }, shape: [b, t])
        var rng = PhiloxRNG(seed: 5)
        let upstream = NDArray(shape: [b, t, 6], zeroed: false)
        rng.fillUniform(upstream.ptr, upstream.count, low: -1, high: 1)
        let parameters = [table.weight] + net.parameters
        func run(_ forward: () -> Tensor) -> (output: [Float], grads: [[Float]]) {
            for p in parameters { p.grad = nil }
            let output = forward()
            (output * Tensor(upstream)).sum().backward()
            return (output.values.scalars, parameters.map { $0.grad!.scalars })
        }
        let projected = run { net(tokens: tokens, embeddedBy: table).output }
        let embedded = run { net(table(tokens)).output }
        let close = { (a: [Float], r: [Float]) in zip(a, r).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) } }
        #expect(close(projected.output, embedded.output), "\(kind) outputs")
        for (k, name) in (["embedding"] + net.namedParameters().map(\.0)).enumerated() {
            #expect(close(projected.grads[k], embedded.grads[k]), "\(kind) gradient of \(name)")
        }
    }
}
