import TensorCore
import Testing

@Suite("Attention head products against a naive reference")
struct HeadProductTests {
    /// Random shapes (odd sizes, edges of the 6 x 16 tiles, padded row strides), both
    /// transposes and every mask. As in attention, the depth masks get weights that are zero
    /// where the mask says: A[i][p] = 0 after p = i (`lowerDepth`) or before it (`upperDepth`).
    /// `lowerColumns` must compute every column up to the diagonal and leave the tiles wholly
    /// right of it untouched.
    @Test(arguments: [HeadProduct.Mask.none, .lowerColumns, .lowerDepth, .upperDepth])
    func matchesNaiveProduct(mask: HeadProduct.Mask) {
        var r = Rand(UInt64(17 + "\(mask)".count))
        let sentinel: Float = 777
        for trial in 0..<24 {
            let m = r.int(1...70), n = r.int(1...40)
            let depthMasked = mask == .lowerDepth || mask == .upperDepth
            let k = depthMasked ? m : r.int(1...45)
            let transA = trial % 2 == 1, transB = trial / 2 % 2 == 1
            let pad = r.int(0...3)
            var av = r.array([m * k]).scalars, bv = r.array([k * n]).scalars
            for i in 0..<m {
                for p in 0..<k where (mask == .lowerDepth && p > i) || (mask == .upperDepth && p < i) {
                    av[i * k + p] = 0
                }
            }
            // Stored with the row strides the transposes give, plus padding.
            let lda = (transA ? m : k) + pad, ldb = (transB ? k : n) + pad, ldc = n + pad
            var aStore = [Float](repeating: .nan, count: (transA ? k : m) * lda)
            var bStore = [Float](repeating: .nan, count: (transB ? n : k) * ldb)
            for i in 0..<m { for p in 0..<k { aStore[transA ? p * lda + i : i * lda + p] = av[i * k + p] } }
            for p in 0..<k { for j in 0..<n { bStore[transB ? j * ldb + p : p * ldb + j] = bv[p * n + j] } }
            var c = [Float](repeating: sentinel, count: m * ldc)
            aStore.withUnsafeBufferPointer { a in
                bStore.withUnsafeBufferPointer { b in
                    c.withUnsafeMutableBufferPointer { cp in
                        HeadProduct.multiply(
                            transA: transA, transB: transB, m: m, n: n, k: k, a: a.baseAddress!, lda: lda,
                            b: b.baseAddress!, ldb: ldb, c: cp.baseAddress!, ldc: ldc, mask: mask)
                    }
                }
            }
            var worst = 0.0, untouched = true
            for i in 0..<m {
                // The first column of the first tile a lowerColumns row panel skips.
                let firstSkipped = mask == .lowerColumns ? (min(n, i / 6 * 6 + 6) + 15) / 16 * 16 : n
                for j in 0..<n {
                    if mask == .lowerColumns && j > i {
                        if j >= firstSkipped && c[i * ldc + j] != sentinel { untouched = false }
                        continue
                    }
                    let ref = (0..<k).reduce(0.0) { $0 + Double(av[i * k + $1]) * Double(bv[$1 * n + j]) }
                    worst = max(worst, abs(Double(c[i * ldc + j]) - ref) / max(1, abs(ref)))
                }
                for j in n..<ldc where c[i * ldc + j] != sentinel { untouched = false }
            }
            #expect(worst < 1e-5, "m \(m) n \(n) k \(k) transA \(transA) transB \(transB) mask \(mask): error \(worst)")
            #expect(untouched, "m \(m) n \(n) k \(k) mask \(mask): wrote outside what it computes")
        }
    }
}
