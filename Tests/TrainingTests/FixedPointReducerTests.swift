import Collective
import TensorCore
import Testing

@Suite("FixedPointReducer on one rank")
struct FixedPointReducerTests {
    /// Four segments of odd sizes with zero padding between them, as in a parameter arena.
    static let segments = [0..<5, 8..<21, 24..<25, 32..<63]

    static func shard(_ j: Int) -> NDArray {
        var rng = PhiloxRNG(seed: 50 + UInt64(j))
        let g = NDArray(shape: [64])
        for r in segments {
            rng.fillNormal(g.ptr + r.lowerBound, r.count, std: Float(1 << (r.lowerBound % 5)))
        }
        return g
    }

    static func reduce(_ order: [Int]) -> [Float] {
        let reducer = FixedPointReducer(
            communicator: SingleProcessCommunicator(), segments: segments, capacity: 64,
            globalShards: order.count, localShards: order.count)
        // As in training: each shard's backward writes the one gradient buffer.
        let g = NDArray(shape: [64])
        for j in order {
            g.ptr.update(from: shard(j).scalars, count: 64)
            reducer.add(g)
        }
        reducer.reduce(into: g)
        return g.scalars
    }

    @Test func theMeanOfTheShardsIsExactUpToOneRoundingAndOrderFree() {
        let shards = 12, got = Self.reduce(Array(0..<shards))
        #expect(Self.reduce(Array((0..<shards).reversed())) == got)
        #expect(Self.reduce([3, 1, 4, 0, 5, 9, 2, 6, 8, 7, 11, 10]) == got)
        let all = (0..<shards).map { Self.shard($0).scalars }
        for i in 0..<64 {
            let exact = all.reduce(0.0) { $0 + Double($1[i]) } / Double(shards)
            #expect(abs(Double(got[i]) - exact) <= abs(exact) * 0x1p-23 + 1e-9, "element \(i)")
        }
        // Padding stays zero. add() leaves the gradients zeroed for the next shard's backward,
        // except after the last shard, whose gradient reduce() reads in place.
        #expect([5, 6, 7, 21, 63].allSatisfy { got[$0] == 0 })
        let g = Self.shard(0), copy = g.scalars
        let reducer = FixedPointReducer(
            communicator: SingleProcessCommunicator(), segments: Self.segments, capacity: 64,
            globalShards: 2, localShards: 2)
        reducer.add(g)
        #expect(g.scalars.allSatisfy { $0 == 0 })
        g.ptr.update(from: copy, count: 64)
        reducer.add(g)
        #expect(g.scalars == copy)
    }

    @Test func aNonFiniteValueMakesItsParameterNaN() {
        let reducer = FixedPointReducer(
            communicator: SingleProcessCommunicator(), segments: Self.segments, capacity: 64,
            globalShards: 2, localShards: 2)
        let bad = Self.shard(1)
        bad.ptr[10] = .infinity
        reducer.add(Self.shard(0))
        reducer.add(bad)
        reducer.reduce(into: bad)
        #expect((8..<21).allSatisfy { bad.ptr[$0].isNaN })
        #expect((32..<63).allSatisfy { bad.ptr[$0].isFinite })
    }
}
