import Foundation
import TensorCore
import Testing

/// Kernels whose other tests use fixed examples, here against naive index arithmetic on
/// random shapes (odd extents, ranks 1-4).
@Suite("Layout, unary and gather kernels on random shapes")
struct RandomShapeTests {
    @Test func permuteMatchesIndexMapping() {
        var r = Rand(51)
        for _ in 0..<40 {
            let rank = r.int(1...4), d = r.dims(rank: rank)
            var perm = Array(0..<rank)
            for i in stride(from: rank - 1, to: 0, by: -1) { perm.swapAt(i, r.int(0...i)) }
            let x = r.array(Shape(d)), y = Layout.permute(x, perm)
            let outDims = perm.map { d[$0] }
            #expect(y.shape.dims == outDims)
            for i in 0..<y.count {
                let oi = unravel(i, outDims)
                var src = [Int](repeating: 0, count: rank)
                for (axis, p) in perm.enumerated() { src[p] = oi[axis] }
                #expect(y.scalars[i] == x.scalars[ravel(src, d)], "permute \(d) by \(perm)")
            }
            #expect(Layout.permute(y, Layout.inverse(perm)).scalars == x.scalars)
        }
    }

    @Test func sliceAndItsBackward() {
        var r = Rand(52)
        for _ in 0..<40 {
            let rank = r.int(1...4), d = r.dims(rank: rank)
            let axis = r.int(0...(rank - 1)), start = r.int(0...(d[axis] - 1))
            let end = r.int(start...d[axis]), step = r.int(1...3)
            let x = r.array(Shape(d)), y = Layout.slice(x, axis: axis, start: start, end: end, step: step)
            var outDims = d
            outDims[axis] = Layout.sliceCount(start: start, end: end, step: step)
            #expect(y.shape.dims == outDims)
            for i in 0..<y.count {
                var idx = unravel(i, outDims)
                idx[axis] = start + idx[axis] * step
                #expect(y.scalars[i] == x.scalars[ravel(idx, d)])
            }
            // The backward scatters back: slicing the result again returns y, the rest is zero.
            let back = Layout.slice_backward(y, inputShape: x.shape, axis: axis, start: start, step: step)
            #expect(Layout.slice(back, axis: axis, start: start, end: end, step: step).scalars == y.scalars)
            #expect(back.scalars.filter { $0 != 0 }.count <= y.count)
        }
    }

    @Test func padAndConcatMatchIndexMapping() {
        var r = Rand(53)
        for _ in 0..<30 {
            let rank = r.int(1...4), d = r.dims(rank: rank)
            let padding = (0..<rank).map { _ in (r.int(0...2), r.int(0...2)) }
            let x = r.array(Shape(d)), y = Layout.pad(x, padding, value: -3)
            let outDims = zip(d, padding).map { $0 + $1.0 + $1.1 }
            for i in 0..<y.count {
                let idx = unravel(i, outDims)
                let src = zip(idx, padding).map { $0 - $1.0 }
                let inside = zip(src, d).allSatisfy { $0 >= 0 && $0 < $1 }
                #expect(y.scalars[i] == (inside ? x.scalars[ravel(src, d)] : -3))
            }
            let axis = r.int(0...(rank - 1))
            var d2 = d
            d2[axis] = r.int(1...4)
            let z = r.array(Shape(d2)), c = Layout.concat([x, z], axis: axis)
            for i in 0..<c.count {
                var idx = unravel(i, c.shape.dims)
                if idx[axis] < d[axis] {
                    #expect(c.scalars[i] == x.scalars[ravel(idx, d)])
                } else {
                    idx[axis] -= d[axis]; #expect(c.scalars[i] == z.scalars[ravel(idx, d2)])
                }
            }
        }
    }

    @Test func unaryMathMatchesFoundation() {
        var r = Rand(54)
        for _ in 0..<10 {
            let d = r.dims(rank: r.int(1...4))
            let x = r.array(Shape(d), low: 0.1, high: 3), v = x.scalars.map(Double.init)
            expectClose(Unary.exp_forward(x), v.map { exp($0) }, tol: 1e-6, "exp")
            expectClose(Unary.log_forward(x), v.map { log($0) }, tol: 1e-6, "log")
            expectClose(Unary.sqrt_forward(x), v.map { $0.squareRoot() }, tol: 1e-6, "sqrt")
            expectClose(Unary.pow_forward(x, 1.7), v.map { pow($0, 1.7) }, tol: 1e-5, "pow")
            expectClose(Unary.clamp_forward(x, min: 0.5, max: 2), v.map { min(max($0, 0.5), 2) }, tol: 0, "clamp")
            let s = r.array(Shape(d))
            expectClose(Unary.abs_forward(s), s.scalars.map { Double(Swift.abs($0)) }, tol: 0, "abs")
        }
    }

    @Test func embeddingGatherAndScatterOnRandomIds() {
        var r = Rand(55)
        for _ in 0..<10 {
            let rows = r.int(1...9), dim = r.int(1...13), n = r.int(1...40)
            let table = r.array([rows, dim])
            let ids = NDArray(indices: (0..<n).map { _ in Int32(r.int(0...(rows - 1))) }, shape: [n])
            let out = Embedding.forward(table, ids: ids)
            for i in 0..<n {
                for j in 0..<dim { #expect(out.scalars[i * dim + j] == table.scalars[Int(ids.indices[i]) * dim + j]) }
            }
            let dy = r.array([n, dim]), dt = Embedding.backward(dy, ids: ids, rows: rows)
            var ref = [Double](repeating: 0, count: rows * dim)
            for i in 0..<n {
                for j in 0..<dim { ref[Int(ids.indices[i]) * dim + j] += Double(dy.scalars[i * dim + j]) }
            }
            expectClose(dt, ref, tol: 1e-6, "embedding scatter-add")
        }
    }
}
