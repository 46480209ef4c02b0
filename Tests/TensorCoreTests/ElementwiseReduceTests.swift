import Foundation
@testable import TensorCore
import Testing

@Suite("Elementwise, broadcasting and reductions against naive references")
struct ElementwiseReduceTests {
    @Test func broadcastingBinaryOps() {
        var r = Rand(31)
        for trial in 0..<60 {
            let rank = r.int(1...4)
            let out = r.dims(rank: rank, extent: 1...7)
            // Each input drops leading axes and sets some axes to 1.
            func operand(_ r: inout Rand) -> [Int] {
                Array(out.dropFirst(r.int(0...(rank - 1)))).map { r.int(0...2) == 0 ? 1 : $0 }
            }
            let sa = operand(&r), sb = operand(&r)
            let a = r.array(Shape(sa)), b = r.array(Shape(sb), low: 0.5, high: 2)
            let target = Shape.broadcast(Shape(sa), Shape(sb))!
            for op in [Binary.Op.add, .sub, .mul, .div, .maximum, .minimum] {
                let y = Binary.forward(op, a, b)
                #expect(y.shape == target)
                let ref: [Double] = (0..<target.count).map { i in
                    let idx = unravel(i, target.dims)
                    func at(_ x: NDArray) -> Double {
                        let off = target.rank - x.rank
                        let sub = (0..<x.rank).map { x.shape[$0] == 1 ? 0 : idx[$0 + off] }
                        return Double(x.scalars[ravel(sub, x.shape.dims)])
                    }
                    let (u, v) = (at(a), at(b))
                    switch op {
                    case .add: return u + v
                    case .sub: return u - v
                    case .mul: return u * v
                    case .div: return u / v
                    case .maximum: return max(u, v)
                    case .minimum: return min(u, v)
                    }
                }
                expectClose(y, ref, tol: 1e-6, "\(op) \(sa) with \(sb), trial \(trial)")
            }
        }
    }

    @Test func reductionsOverAnyAxes() {
        var r = Rand(32)
        for trial in 0..<50 {
            let dims = r.dims(rank: r.int(1...4), extent: 1...7)
            let x = r.array(Shape(dims))
            let axes = (0..<dims.count).filter { _ in r.int(0...1) == 1 }
            let ax = axes.isEmpty ? [0] : axes
            let keptDims = dims.enumerated().map { ax.contains($0.offset) ? 1 : $0.element }
            var groups = [[Double]](repeating: [], count: keptDims.reduce(1, *))
            for i in 0..<x.count {
                var idx = unravel(i, dims)
                for a in ax { idx[a] = 0 }
                groups[ravel(idx, keptDims)].append(Double(x.scalars[i]))
            }
            let n = Double(groups[0].count)
            expectClose(
                Reduce.sum(x, axes: ax), groups.map { $0.reduce(0, +) }, tol: 1e-5, "sum \(dims) axes \(ax) #\(trial)")
            expectClose(Reduce.mean(x, axes: ax), groups.map { $0.reduce(0, +) / n }, tol: 1e-5, "mean")
            expectClose(Reduce.max(x, axes: ax), groups.map { $0.max()! }, tol: 0, "max")
            expectClose(Reduce.min(x, axes: ax), groups.map { $0.min()! }, tol: 0, "min")
            if n > 1 {
                let v = groups.map { g in
                    let m = g.reduce(0, +) / n; return g.reduce(0) { $0 + ($1 - m) * ($1 - m) } / (n - 1)
                }
                expectClose(Reduce.variance(x, axes: ax), v, tol: 1e-5, "variance")
            }
            #expect(Reduce.sum(x, axes: ax, keepDims: true).shape.dims == keptDims)
            // argmax along one axis.
            let a = ax[0]
            let am = Reduce.argmax(x, axis: a)
            let (outer, len, inner) = x.shape.split(at: a)
            for o in 0..<outer {
                for i in 0..<inner {
                    let lane = (0..<len).map { x.scalars[(o * len + $0) * inner + i] }
                    #expect(Int(am.indices[o * inner + i]) == lane.firstIndex(of: lane.max()!)!)
                }
            }
        }
    }

    /// The 8-lane row reductions behind softmax against plain loops, every length 1...40.
    @Test func contiguousMaxSumAndDot() {
        var r = Rand(12)
        for n in 1...40 {
            let a = r.array([n], low: -5, high: 5).scalars, b = r.array([n]).scalars
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    #expect(Reduce.maxContiguous(pa.baseAddress!, n) == a.max()!, "max of \(n)")
                    let sum = a.reduce(0.0) { $0 + Double($1) },
                        dot = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                    #expect(
                        abs(Double(Reduce.sumContiguous(pa.baseAddress!, n)) - sum) < 1e-5 * Double(n), "sum of \(n)")
                    #expect(
                        abs(Double(Reduce.dotContiguous(pa.baseAddress!, pb.baseAddress!, n)) - dot) < 1e-5 * Double(n),
                        "dot of \(n)")
                }
            }
        }
    }

    @Test func sumToUndoesBroadcast() {
        var r = Rand(33)
        let x = r.array([4, 3, 5])
        let s = Reduce.sumTo(x, [3, 1])
        let ref = (0..<3).map { j in
            (0..<4).flatMap { i in (0..<5).map { Double(x.scalars[(i * 3 + j) * 5 + $0]) } }.reduce(0, +)
        }
        expectClose(s, ref, tol: 1e-5, "sumTo")
    }

    /// Arrays of several grains run on every thread of the pool, where the operator is a type
    /// (`Pointwise`, `PointwisePair`) specialised into the workers' loops: each chunk, including
    /// the odd last one, against a Double reference.
    @Test func elementwiseOpsSplitOverThreads() {
        var r = Rand(37)
        let rows = 3 * Unary.grain / 128 + 1
        let a = r.array([rows, 128]), b = r.array([rows, 128], low: 0.5, high: 2), bias = r.array([128])
        let (da, db, dbias) = (a.scalars.map(Double.init), b.scalars.map(Double.init), bias.scalars.map(Double.init))
        let refs: [(Binary.Op, (Double, Double) -> Double)] = [
            (.add, +), (.sub, -), (.mul, *), (.div, /), (.maximum, max), (.minimum, min),
        ]
        for (op, f) in refs {
            expectClose(Binary.forward(op, a, b), zip(da, db).map(f), tol: 1e-6, "\(op) on \(a.shape)")
            expectClose(
                Binary.forward(op, a, bias), da.indices.map { f(da[$0], dbias[$0 % 128]) }, tol: 1e-6,
                "\(op) with a broadcast row")
        }
        let (gradA, gradB) = Binary.backward(.mul, b, a, b)
        expectClose(gradA, zip(db, db).map(*), tol: 1e-6, "mul backward, da")
        expectClose(gradB, zip(db, da).map(*), tol: 1e-6, "mul backward, db")
        expectClose(Binary.backward(.sub, b, a, b).1, db.map { -$0 }, tol: 0, "sub backward, db")
        expectClose(Activation.relu.forward(a), da.map { max($0, 0) }, tol: 0, "relu on \(a.shape)")
        let gelu = Activation.geluTanh
        let dgelu = gelu.backward(b, x: a, y: gelu.forward(a))
        let h = 1e-4
        let ref: [Double] = da.indices.map { i in
            func g(_ v: Double) -> Double { 0.5 * v * (1 + tanh(0.7978845608028654 * (v + 0.044715 * v * v * v))) }
            return db[i] * (g(da[i] + h) - g(da[i] - h)) / (2 * h)
        }
        expectClose(dgelu, ref, tol: 2e-5, "tanh-GELU backward on \(a.shape)")
    }

    @Test func activationsMatchDefinitions() {
        let xs: [Float] = [-3, -1.5, -0.2, 0, 0.3, 1, 2.5, 25]
        let x = NDArray(xs, shape: [8])
        let d = xs.map(Double.init)
        func sig(_ v: Double) -> Double { 1 / (1 + exp(-v)) }
        let geluTanh: (Double) -> Double = { v in 0.5 * v * (1 + tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)))
        }
        let geluErf: (Double) -> Double = { v in 0.5 * v * (1 + erf(v / 2.0.squareRoot())) }
        let softplus: (Double) -> Double = { v in v > 20 ? v : log1p(exp(v)) }
        let cases: [(Activation, (Double) -> Double)] = [
            (.relu, { max($0, 0) }),
            (.leakyRelu(slope: 0.1), { $0 > 0 ? $0 : 0.1 * $0 }),
            (.elu(alpha: 1), { $0 > 0 ? $0 : exp($0) - 1 }),
            (.sigmoid, sig),
            (.tanh, { tanh($0) }),
            (.geluTanh, geluTanh),
            (.geluErf, geluErf),
            (.silu, { $0 * sig($0) }),
            (.softplus(beta: 1, threshold: 20), softplus),
        ]
        for (f, ref) in cases { expectClose(f.forward(x), d.map(ref), tol: 2e-6, "\(f)") }
    }

    /// 16-bit inputs are widened block by block (blocks of 512, in parallel): the forward is
    /// the fp32 kernel on the widened values, rounded once; the backward is the fp32 kernel on
    /// the widened input, bit for bit, over several blocks and a partial one.
    @Test(arguments: [DType.float16, .bfloat16])
    func activationsOn16BitInputsMatchTheFloatKernel(dtype: DType) {
        var r = Rand(8)
        let x16 = r.array([3, 1037]).converted(to: dtype), dy = r.array([3, 1037])
        let all: [Activation] = [
            .relu, .leakyRelu(slope: 0.1), .elu(alpha: 1), .sigmoid, .tanh, .geluTanh, .geluErf,
            .silu, .softplus(beta: 1, threshold: 20),
        ]
        for f in all {
            let y16 = f.forward(x16)
            #expect(y16.dtype == dtype, "\(f) forward stores \(y16.dtype)")
            #expect(y16.scalarsWidened == f.forward(x16.float32).converted(to: dtype).scalarsWidened, "\(f) forward")
            let dx = f.backward(dy, x: x16, y: y16), ref = f.backward(dy, x: x16.float32, y: y16.float32)
            #expect(dx.scalars == ref.scalars, "\(f) backward")
        }
    }

    @Test func whereAndMaskedFill() {
        let c = NDArray([1, 0, 2, 0], shape: [4]), a = NDArray([1, 2, 3, 4], shape: [4]),
            b = NDArray([5, 6, 7, 8], shape: [4])
        #expect(Select.whereForward(c, a, b).scalars == [1, 6, 3, 8])
        #expect(Select.maskedFillForward(a, mask: c, value: -1).scalars == [-1, 2, -1, 4])
    }
}

extension NDArray {
    /// The values as floats, whatever the storage type.
    var scalarsWidened: [Float] { float32.scalars }
}
