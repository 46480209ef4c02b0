import Autograd
import Testing

/// Leaves whose gradient buffer exists have their matmul and linear gradients added by the
/// GEMM itself (`Tensor.gradientBuffer`); these tests compare that with fresh leaves, whose
/// gradients backward allocates and adds as before.
@Suite struct InPlaceGradientTests {
    static func random(_ shape: Shape, seed: UInt64) -> NDArray {
        var rng = PhiloxRNG(seed: seed)
        let a = NDArray(shape: shape, zeroed: false)
        rng.fillUniform(a.ptr, a.count, low: -1, high: 1)
        return a
    }

    /// A leaf holding `values` whose gradient buffer already holds `start`.
    static func leaf(_ values: NDArray, start: NDArray) -> Tensor {
        let t = Tensor(values.copy(), requiresGrad: true)
        t.grad = start.copy()
        return t
    }

    /// Runs `f` on fresh leaves and on leaves with gradient buffers holding random values, and
    /// checks that the buffers end as those values plus the fresh gradients, in place.
    static func check(_ shapes: [Shape], _ f: ([Tensor]) -> Tensor) {
        let values = shapes.enumerated().map { random($1, seed: UInt64(10 + $0)) }
        let starts = shapes.enumerated().map { random($1, seed: UInt64(20 + $0)) }
        let fresh = values.map { Tensor($0.copy(), requiresGrad: true) }
        f(fresh).sum().backward()
        let buffered = zip(values, starts).map { leaf($0, start: $1) }
        let buffers = buffered.map { $0.grad!.storage.raw }
        f(buffered).sum().backward()
        for i in shapes.indices {
            #expect(buffered[i].grad!.storage.raw == buffers[i], "input \(i)'s gradient buffer was replaced")
            let expected = zip(starts[i].scalars, fresh[i].grad!.scalars).map { $0 + $1 }
            let got = buffered[i].grad!.scalars
            #expect(
                zip(got, expected).allSatisfy { Swift.abs($0 - $1) <= 1e-5 * (1 + Swift.abs($1)) },
                "input \(i): \(got.prefix(4)) against \(expected.prefix(4))")
        }
    }

    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func matmulAddsIntoBuffers(transA: Bool, transB: Bool) {
        // (7 x 5) · (5 x 9), stored transposed where asked.
        let a: Shape = transA ? [5, 7] : [7, 5], b: Shape = transB ? [9, 5] : [5, 9]
        Self.check([a, b]) { matmul($0[0], $0[1], transA: transA, transB: transB) }
    }

    @Test func linearAddsIntoBuffers() {
        // x (2, 3, 13) with leading axes, weight (6, 13), bias (6).
        Self.check([[2, 3, 13], [6, 13], [6]]) { linear($0[0], weight: $0[1], bias: $0[2]) }
        Self.check([[4, 13], [6, 13]]) { linear($0[0], weight: $0[1], bias: nil) }
    }

    @Test func embeddingAddsIntoItsTablesBuffer() {
        // Repeated ids, and the table read by two lookups.
        let ids = NDArray(indices: [2, 0, 6, 2, 2], shape: [5]), more = NDArray(indices: [6, 1], shape: [2])
        Self.check([[7, 5]]) { embedding($0[0], ids: ids).sum() + embedding($0[0], ids: more).sum() * 2 }
    }

    @Test func convolutionAddsIntoItsWeightsBuffer() {
        // Two images in groups of 2 channels; the weight gradient's per-thread partials are
        // summed onto the buffer.
        Self.check([[2, 4, 7, 6], [6, 2, 3, 3], [6]]) {
            conv2d($0[0], weight: $0[1], bias: $0[2], padding: (1, 1), groups: 2)
        }
        Self.check([[2, 4, 5, 4], [4, 3, 3, 3], [6]]) {
            convTranspose2d($0[0], weight: $0[1], bias: $0[2], stride: (2, 2), padding: (1, 1), groups: 2)
        }
    }

    @Test func sharedWeightOfABatchAndALeafReadTwice() {
        // b shared by a batch of a (summed over the batch, then added as before) ...
        Self.check([[3, 4, 5], [5, 6]]) { matmul($0[0], $0[1]) }
        // ... and one leaf as both operands, and read by two ops: each product adds its part.
        Self.check([[6, 6]]) { matmul($0[0], $0[0], transB: true) + matmul($0[0], $0[0]) }
    }
}
