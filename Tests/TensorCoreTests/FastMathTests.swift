import Foundation
import TensorCore
import Testing

@Suite("FastMath against Foundation in Double")
struct FastMathTests {
    /// Every 1/64 from -100 to 100, and small and odd values near the branch points.
    static let inputs: [Float] =
        stride(from: -100.0, through: 100.0, by: 1.0 / 64).map { Float($0) }
        + [0, 1e-8, -1e-8, 1e-4, -3e-3, 0.6249, 0.625, 0.6251, -0.625, 8.99, 9.01, 87.2, -87.2, 88.2, 1e-30]

    @Test func expIsWithinFourUlp() {
        for x in Self.inputs where x > -87 && x < 88 {
            let exact = Foundation.exp(Double(x)), got = Double(FastMath.exp(x))
            #expect(abs(got - exact) <= 4.8e-7 * exact, "exp(\(x)) = \(got), exact \(exact)")
        }
        #expect(FastMath.exp(-200) == 0 || FastMath.exp(-200) < 1e-37)
        #expect(FastMath.exp(200).isFinite && FastMath.exp(200) > 1e38)
    }

    @Test func tanhAndSigmoidAreWithinThreeTenMillionths() {
        for x in Self.inputs {
            let t = Double(FastMath.tanh(x)), s = Double(FastMath.sigmoid(x))
            #expect(abs(t - Foundation.tanh(Double(x))) <= 3e-7, "tanh(\(x)) = \(t)")
            #expect(abs(s - 1 / (1 + Foundation.exp(-Double(x)))) <= 3e-7, "sigmoid(\(x)) = \(s)")
        }
        // Odd, exactly: tanh(-x) = -tanh(x); and small arguments keep their relative precision.
        #expect(Self.inputs.allSatisfy { FastMath.tanh(-$0) == -FastMath.tanh($0) })
        #expect(abs(Double(FastMath.tanh(1e-4)) / 1e-4 - 1) < 1e-6)
    }
}
