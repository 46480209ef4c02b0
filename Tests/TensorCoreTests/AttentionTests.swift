import Foundation
import TensorCore
import Testing

@Suite("Attention kernel against a naive reference")
struct AttentionTests {
    /// Forward and backward against the definition in Double, on heads side by side: odd
    /// lengths and head widths, causal and cross-attention, and a case with more heads than
    /// threads and rows past the GEMM's 6-row tiles. Heads that run one per thread go through
    /// `HeadProduct` (causal ones skipping their masked tiles), the last case's single large
    /// head through the threaded GEMM, on any number of threads.
    @Test(arguments: [
        (2, 19, 19, 3, 5, true), (3, 7, 11, 2, 8, false), (1, 1, 1, 1, 3, true), (2, 33, 33, 4, 16, true),
        (2, 70, 70, 2, 20, true), (2, 40, 23, 2, 17, false), (1, 130, 130, 1, 260, true),
    ])
    func matchesTheDefinition(b: Int, tq: Int, tk: Int, heads: Int, d: Int, causal: Bool) {
        var r = Rand(UInt64(b * 1000 + tq * 10 + d))
        let c = heads * d, scale: Float = 0.6
        let q = r.array([b, tq, c]), k = r.array([b, tk, c]), v = r.array([b, tk, c]), dOut = r.array([b, tq, c])
        let (out, weights) = Attention.forward(q: q, k: k, v: v, heads: heads, causal: causal, scale: scale)
        let (dq, dk, dv) = Attention.backward(
            dOut, q: q, k: k, v: v, weights: weights, heads: heads, causal: causal, scale: scale)
        let (qs, ks, vs, gs) = (
            q.scalars.map(Double.init), k.scalars.map(Double.init), v.scalars.map(Double.init),
            dOut.scalars.map(Double.init)
        )
        var refOut = [Double](repeating: 0, count: q.count), refP = [Double](repeating: 0, count: weights.count)
        var refDq = refOut, refDk = [Double](repeating: 0, count: k.count), refDv = refDk
        for bi in 0..<b {
            for h in 0..<heads {
                func qi(_ i: Int, _ x: Int) -> Int { (bi * tq + i) * c + h * d + x }
                func kj(_ j: Int, _ x: Int) -> Int { (bi * tk + j) * c + h * d + x }
                for i in 0..<tq {
                    let n = causal ? i + 1 : tk
                    let s = (0..<n).map { j in Double(scale) * (0..<d).reduce(0) { $0 + qs[qi(i, $1)] * ks[kj(j, $1)] }
                    }
                    let m = s.max()!, e = s.map { exp($0 - m) }, z = e.reduce(0, +), p = e.map { $0 / z }
                    for j in 0..<n { refP[((bi * heads + h) * tq + i) * tk + j] = p[j] }
                    for x in 0..<d { refOut[qi(i, x)] = (0..<n).reduce(0) { $0 + p[$1] * vs[kj($1, x)] } }
                    let dp = (0..<n).map { j in (0..<d).reduce(0) { $0 + gs[qi(i, $1)] * vs[kj(j, $1)] } }
                    let dot = zip(dp, p).reduce(0) { $0 + $1.0 * $1.1 }
                    let ds = (0..<n).map { Double(scale) * p[$0] * (dp[$0] - dot) }
                    for j in 0..<n {
                        for x in 0..<d {
                            refDv[kj(j, x)] += p[j] * gs[qi(i, x)]
                            refDq[qi(i, x)] += ds[j] * ks[kj(j, x)]
                            refDk[kj(j, x)] += ds[j] * qs[qi(i, x)]
                        }
                    }
                }
            }
        }
        #expect(out.shape == q.shape && weights.shape == [b, heads, tq, tk])
        expectClose(weights, refP, tol: 1e-5, "weights")
        expectClose(out, refOut, tol: 1e-5, "output")
        expectClose(dq, refDq, tol: 1e-4, "dq")
        expectClose(dk, refDk, tol: 1e-4, "dk")
        expectClose(dv, refDv, tol: 1e-4, "dv")
    }
}
