import Autograd
import Testing

/// Central-difference gradient checking.
///
/// Kernels compute in Float32 (Tandem's only compute type), so the check evaluates the op
/// in Float32 and does everything else in Double: the inputs are perturbed by ±h, the
/// projection L = Σ y·R onto a fixed random direction R is summed in Double, and
/// (L(x+h) - L(x-h)) / 2h is compared with the analytic vector-Jacobian product of R.
/// With h = 1e-2 the Float32 rounding of y contributes about 1e-5 relative error, far
/// below the tolerance, while a wrong VJP is off by O(1).
struct GradientCheck {
    /// Checks every float input of `f` at `inputs`; returns a message per mismatch.
    /// - Parameters:
    ///   - samples: at most this many elements are perturbed per input (spread evenly).
    static func run(
        _ inputs: [NDArray], h: Double, rtol: Double, atol: Double, samples: Int = 48,
        _ f: ([Tensor]) -> Tensor
    ) -> [String] {
        let leaves = inputs.map { Tensor($0.copy(), requiresGrad: true) }
        let y = f(leaves)
        var rng = PhiloxRNG(seed: 99)
        let direction = NDArray(shape: y.shape, zeroed: false)
        rng.fillUniform(direction.ptr, direction.count, low: -1, high: 1)
        y.backward(direction)
        let r = direction.scalars.map(Double.init)

        func projected() -> Double {
            let out = withNoGrad { f(inputs.map { Tensor($0) }) }
            return zip(out.scalars, r).reduce(0) { $0 + Double($1.0) * $1.1 }
        }

        var failures: [String] = []
        for (k, x) in inputs.enumerated() {
            let analytic = leaves[k].grad?.scalars ?? [Float](repeating: 0, count: x.count)
            let stride = max(1, x.count / samples)
            for i in Swift.stride(from: 0, to: x.count, by: stride) {
                let saved = x.ptr[i]
                x.ptr[i] = Float(Double(saved) + h)
                let plus = projected()
                x.ptr[i] = Float(Double(saved) - h)
                let minus = projected()
                x.ptr[i] = saved
                let numeric = (plus - minus) / (2 * h)
                let a = Double(analytic[i])
                if abs(a - numeric) > atol + rtol * max(abs(a), abs(numeric)) {
                    failures.append("input \(k) \(x.shape) element \(i): analytic \(a), numeric \(numeric)")
                    if failures.count > 5 { return failures }
                }
            }
        }
        return failures
    }
}
