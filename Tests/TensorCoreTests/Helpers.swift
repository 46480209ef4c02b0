import TensorCore
import Testing

/// Random float arrays and comparisons shared by the kernel tests.
struct Rand {
    var rng: PhiloxRNG
    init(_ seed: UInt64) { rng = PhiloxRNG(seed: seed) }

    mutating func array(_ shape: Shape, low: Float = -1, high: Float = 1) -> NDArray {
        let a = NDArray(shape: shape, zeroed: false)
        rng.fillUniform(a.ptr, a.count, low: low, high: high)
        return a
    }

    /// Random dimensions for a shape of `rank`, each in `extent` (odd sizes included).
    mutating func dims(rank: Int, extent: ClosedRange<Int> = 1...6) -> [Int] { (0..<rank).map { _ in int(extent) } }

    /// A uniform integer in range.
    mutating func int(_ r: ClosedRange<Int>) -> Int {
        let w = PhiloxRNG.block(seed: rng.seed, counter: rng.advance(4))[0]
        return r.lowerBound + Int(w % UInt32(r.count))
    }
}

/// Largest |a - b| relative to max(1, |b|), elementwise.
func maxRelativeError(_ a: [Float], _ b: [Double]) -> Double {
    precondition(a.count == b.count, "compared \(a.count) values with \(b.count)")
    return zip(a, b).reduce(0) { max($0, abs(Double($1.0) - $1.1) / max(1, abs($1.1))) }
}

func expectClose(_ a: NDArray, _ b: [Double], tol: Double = 1e-5, _ what: String) {
    #expect(a.count == b.count, "\(what): \(a.count) values, expected \(b.count)")
    let err = maxRelativeError(a.scalars, b)
    #expect(err <= tol, "\(what): max relative error \(err) > \(tol)")
}

/// Row-major multi-index of flat index `i` in `dims`.
func unravel(_ i: Int, _ dims: [Int]) -> [Int] {
    var rem = i, out = [Int](repeating: 0, count: dims.count)
    for a in stride(from: dims.count - 1, through: 0, by: -1) { out[a] = rem % dims[a]; rem /= dims[a] }
    return out
}

func ravel(_ idx: [Int], _ dims: [Int]) -> Int { zip(idx, dims).reduce(0) { $0 * $1.1 + $1.0 } }
