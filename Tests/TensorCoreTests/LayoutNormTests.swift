import Foundation
import TensorCore
import Testing

@Suite("Layout, softmax and normalisation against naive references")
struct LayoutNormTests {
    @Test func permuteSlicePadConcat() {
        var r = Rand(41)
        let x = r.array([3, 4, 5])
        let p = Layout.permute(x, [2, 0, 1])
        #expect(p.shape == [5, 3, 4])
        for i in 0..<3 {
            for j in 0..<4 {
                for k in 0..<5 {
                    #expect(p.scalars[(k * 3 + i) * 4 + j] == x.scalars[(i * 4 + j) * 5 + k])
                }
            }
        }
        let s = Layout.slice(x, axis: 2, start: 1, end: 5, step: 2)
        #expect(s.shape == [3, 4, 2])
        #expect(s.scalars == (0..<12).flatMap { row in [1, 3].map { x.scalars[row * 5 + $0] } })
        let pd = Layout.pad(x, [(0, 0), (1, 2), (0, 1)], value: 7)
        #expect(pd.shape == [3, 7, 6])
        for i in 0..<3 {
            for j in 0..<7 {
                for k in 0..<6 {
                    let inside = j >= 1 && j < 5 && k < 5
                    #expect(pd.scalars[(i * 7 + j) * 6 + k] == (inside ? x.scalars[(i * 4 + j - 1) * 5 + k] : 7))
                }
            }
        }
        #expect(Layout.pad_backward(pd, [(0, 0), (1, 2), (0, 1)], inputShape: x.shape).scalars == x.scalars)
        let y = r.array([3, 2, 5])
        let c = Layout.concat([x, y], axis: 1)
        #expect(c.shape == [3, 6, 5])
        let parts = Layout.split(c, sizes: [4, 2], axis: 1)
        #expect(parts[0].scalars == x.scalars && parts[1].scalars == y.scalars)
        let b = Layout.broadcast(NDArray([1, 2, 3], shape: [3, 1]), to: [2, 3, 2])
        #expect(b.scalars == [1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3])
    }

    /// Every axis of two shapes: the last axis is a contiguous lane (vector loops with a
    /// remainder of 5 values), the others strided.
    @Test func softmaxAlongEveryAxis() {
        var r = Rand(42)
        for shape: Shape in [[3, 4, 5], [2, 3, 21]] {
            let x = r.array(shape, low: -5, high: 5);
            for axis in 0..<3 {
                let (outer, n, inner) = x.shape.split(at: axis)
                var soft = [Double](repeating: 0, count: x.count), logSoft = soft
                for o in 0..<outer {
                    for i in 0..<inner {
                        let idx = (0..<n).map { (o * n + $0) * inner + i }
                        let m = idx.map { Double(x.scalars[$0]) }.max()!
                        let z = idx.reduce(0.0) { $0 + exp(Double(x.scalars[$1]) - m) }
                        for j in idx {
                            soft[j] = exp(Double(x.scalars[j]) - m) / z; logSoft[j] = Double(x.scalars[j]) - m - log(z)
                        }
                    }
                }
                expectClose(Softmax.forward(x, axis: axis), soft, tol: 1e-6, "softmax axis \(axis)")
                expectClose(Softmax.forward(x, axis: axis, log: true), logSoft, tol: 1e-5, "log softmax axis \(axis)")
            }
        }
    }

    @Test func causalSoftmaxMatchesMaskedSoftmaxOnRandomShapes() {
        var r = Rand(43)
        for _ in 0..<6 {
            // Rows past 8 take the 8-lane paths.
            let b = r.int(1...3), t = r.int(1...21), scale = Float(r.int(1...9)) / 4
            let x = r.array([b, t, t], low: -4, high: 4), dy = r.array([b, t, t])
            var y = [Double](repeating: 0, count: x.count), dx = y
            for row in 0..<(b * t) {
                let i = row % t, base = row * t
                let z = (0...i).map { Double(scale) * Double(x.scalars[base + $0]) }
                let m = z.max()!, s = z.reduce(0) { $0 + exp($1 - m) }
                for j in 0...i { y[base + j] = exp(z[j] - m) / s }
                let dot = (0...i).reduce(0.0) { $0 + Double(dy.scalars[base + $1]) * y[base + $1] }
                for j in 0...i { dx[base + j] = Double(scale) * y[base + j] * (Double(dy.scalars[base + j]) - dot) }
            }
            let out = Softmax.causalForward(x, scale: scale)
            expectClose(out, y, tol: 1e-6, "causal softmax (\(b), \(t), \(t)) scale \(scale)")
            expectClose(
                Softmax.causalBackward(dy, y: out, scale: scale), dx, tol: 1e-5,
                "causal softmax backward (\(b), \(t), \(t))")
        }
    }

    @Test func layerNormMatchesDefinition() {
        var r = Rand(43)
        let x = r.array([6, 13], low: -3, high: 3), w = r.array([13]), b = r.array([13])
        let (y, mean, rstd) = LayerNorm.forward(x, weight: w, bias: b, eps: 1e-5)
        var ref: [Double] = []
        for i in 0..<6 {
            let row = (0..<13).map { Double(x.scalars[i * 13 + $0]) }
            let m = row.reduce(0, +) / 13
            let v = row.reduce(0) { $0 + ($1 - m) * ($1 - m) } / 13
            #expect(
                abs(Double(mean.scalars[i]) - m) < 1e-5
                    && abs(Double(rstd.scalars[i]) - 1 / (v + 1e-5).squareRoot()) < 1e-4)
            ref += row.enumerated().map {
                ($1 - m) / (v + 1e-5).squareRoot() * Double(w.scalars[$0]) + Double(b.scalars[$0])
            }
        }
        expectClose(y, ref, tol: 1e-5, "layer norm")
    }

    /// Backward against the definition in Double, on enough rows that dw and db are summed
    /// over several row blocks (1000 x 13: two), with and without the affine parameters.
    @Test(arguments: [(1000, 13, true), (1000, 13, false), (9, 21, true)])
    func layerNormBackwardMatchesDefinition(rows: Int, d: Int, affine: Bool) {
        var r = Rand(UInt64(rows + d))
        let x = r.array([rows, d], low: -3, high: 3), dy = r.array([rows, d])
        let w = affine ? r.array([d]) : nil, b = affine ? r.array([d]) : nil
        let (_, mean, rstd) = LayerNorm.forward(x, weight: w, bias: b)
        let (dx, dw, db) = LayerNorm.backward(dy, x: x, mean: mean, rstd: rstd, weight: w)
        var refDx: [Double] = [], refDw = [Double](repeating: 0, count: d), refDb = refDw
        for i in 0..<rows {
            let row = (0..<d).map { Double(x.scalars[i * d + $0]) }, g = (0..<d).map { Double(dy.scalars[i * d + $0]) }
            let m = row.reduce(0, +) / Double(d)
            let s = 1 / (row.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(d) + 1e-5).squareRoot()
            let norm = row.map { ($0 - m) * s }
            let dnorm = (0..<d).map { g[$0] * (affine ? Double(w!.scalars[$0]) : 1) }
            let dm = dnorm.reduce(0, +) / Double(d), dnm = zip(dnorm, norm).reduce(0) { $0 + $1.0 * $1.1 } / Double(d)
            refDx += (0..<d).map { (dnorm[$0] - dm - norm[$0] * dnm) * s }
            for j in 0..<d { refDw[j] += g[j] * norm[j]; refDb[j] += g[j] }
        }
        expectClose(dx, refDx, tol: 1e-4, "layer norm dx")
        #expect((dw == nil) == !affine && (db == nil) == !affine)
        if let dw, let db {
            expectClose(dw, refDw, tol: 1e-4, "layer norm dw")
            expectClose(db, refDb, tol: 1e-4, "layer norm db")
        }
    }

    @Test func batchNormTrainingEvalAndRunningStatistics() {
        var r = Rand(44)
        let x = r.array([4, 3, 2, 5], low: -2, high: 3), w = r.array([3]), b = r.array([3])
        let rm = NDArray([0.5, -0.5, 0], shape: [3]), rv = NDArray([2, 1, 0.5], shape: [3])
        let (y, _, _) = BatchNorm.trainForward(
            x, weight: w, bias: b, runningMean: rm, runningVar: rv, momentum: 0.1, eps: 1e-5)
        var ref = [Double](repeating: 0, count: x.count)
        for ch in 0..<3 {
            let idx = (0..<4).flatMap { n in (0..<10).map { (n * 3 + ch) * 10 + $0 } }
            let v = idx.map { Double(x.scalars[$0]) }
            let m = v.reduce(0, +) / 40, varB = v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / 40
            for i in idx {
                ref[i] =
                    (Double(x.scalars[i]) - m) / (varB + 1e-5).squareRoot() * Double(w.scalars[ch])
                    + Double(b.scalars[ch])
            }
            // Running statistics: momentum 0.1 towards the batch mean and the unbiased batch variance.
            #expect(abs(Double(rm.scalars[ch]) - (0.9 * [0.5, -0.5, 0][ch] + 0.1 * m)) < 1e-5)
            #expect(abs(Double(rv.scalars[ch]) - (0.9 * [2, 1, 0.5][ch] + 0.1 * varB * 40 / 39)) < 1e-5)
        }
        expectClose(y, ref, tol: 1e-5, "batch norm train")
        let (ye, _) = BatchNorm.evalForward(x, weight: w, bias: b, runningMean: rm, runningVar: rv)
        let refEval = (0..<x.count).map { i -> Double in
            let ch = (i / 10) % 3
            return (Double(x.scalars[i]) - Double(rm.scalars[ch])) / (Double(rv.scalars[ch]) + 1e-5).squareRoot()
                * Double(w.scalars[ch]) + Double(b.scalars[ch])
        }
        expectClose(ye, refEval, tol: 1e-5, "batch norm eval")
    }

    @Test func embeddingGatherAndScatter() {
        let table = NDArray((0..<12).map(Float.init), shape: [4, 3])
        let ids = NDArray(indices: [2, 0, 2], shape: [3])
        #expect(Embedding.forward(table, ids: ids).scalars == [6, 7, 8, 0, 1, 2, 6, 7, 8])
        let dt = Embedding.backward(NDArray(repeating: 1, shape: [3, 3]), ids: ids, rows: 4)
        #expect(dt.scalars == [1, 1, 1, 0, 0, 0, 2, 2, 2, 0, 0, 0])
    }

    @Test func crossEntropyWithSmoothingAndIgnore() {
        let logits = NDArray([2, 0.5, -1, 0, 0, 3, 1, 1, 1], shape: [3, 3])
        let targets = NDArray(indices: [0, -100, 1], shape: [3])
        let (loss, _, used) = CrossEntropy.forward(logits, targets: targets, labelSmoothing: 0.2, ignoreIndex: -100)
        func logp(_ row: [Double]) -> [Double] { let z = log(row.map(exp).reduce(0, +)); return row.map { $0 - z } }
        let l0 = logp([2, 0.5, -1]), l2 = logp([1, 1, 1])
        let ref = ((-(0.8 * l0[0]) - 0.2 / 3 * l0.reduce(0, +)) + (-(0.8 * l2[1]) - 0.2 / 3 * l2.reduce(0, +))) / 2
        #expect(used == 2)
        #expect(abs(Double(loss.item) - ref) < 1e-6)
    }
}
