import Foundation
import TensorCore

/// The range of each int8 layer's input, observed on a sample of the training set: the
/// activations' scale and zero point come from it.
public enum ActivationCalibration {
    public enum Method: String, CaseIterable, Sendable {
        /// The smallest and largest value seen: nothing clips, but one outlier widens every step.
        case minmax
        /// The `percentile`-th and (100 - percentile)-th percentiles: the rare outliers clip,
        /// and the rest get finer steps.
        case percentile
    }

    /// Values kept per layer for percentiles (an even stride through larger inputs).
    static let sampleCap = 2_000_000

    /// - Parameters:
    ///   - plan: the fp32 inference steps.
    ///   - batches: calibration inputs.
    ///   - method: minmax or percentile.
    ///   - percentile: for `.percentile`, in (50, 100].
    /// - Returns: (low, high) per int8 layer name.
    public static func ranges(plan: InferencePlan, batches: [NDArray], method: Method, percentile: Double) -> [String: (
        low: Float, high: Float
    )] {
        var seen: [String: (low: Float, high: Float)] = [:], samples: [String: [Float]] = [:]
        let capPerBatch = sampleCap / max(batches.count, 1)
        for batch in batches {
            _ = plan.run(batch) { name, x in
                let p = UnsafeBufferPointer(start: x.ptr, count: x.count)
                let old = seen[name] ?? (.infinity, -.infinity)
                seen[name] = (min(old.low, p.min() ?? 0), max(old.high, p.max() ?? 0))
                if method == .percentile {
                    let stride = max(1, x.count / capPerBatch)
                    samples[name, default: []] += Swift.stride(from: 0, to: x.count, by: stride).map { p[$0] }
                }
            }
        }
        guard method == .percentile else { return seen }
        return samples.mapValues { values in
            let sorted = values.sorted()
            func at(_ q: Double) -> Float {
                sorted[min(sorted.count - 1, Int((q * Double(sorted.count - 1)).rounded()))]
            }
            return (at(1 - percentile / 100), at(percentile / 100))
        }
    }
}
