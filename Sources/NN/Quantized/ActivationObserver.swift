import Autograd

/// The values an int8 layer's input takes during calibration: their range, and (for
/// percentile calibration) an even sample of them.
public final class ActivationObserver {
    /// Values kept for percentiles per batch (an even stride through larger inputs).
    public let samplesPerBatch: Int
    public private(set) var low = Float.infinity, high = -Float.infinity
    public private(set) var samples: [Float] = []

    /// - Parameter samplesPerBatch: values kept from each input for percentiles (0: minmax only).
    public init(samplesPerBatch: Int = 0) { self.samplesPerBatch = samplesPerBatch }

    /// Records one input.
    public func observe(_ x: NDArray) {
        let p = UnsafeBufferPointer(start: x.ptr, count: x.count)
        guard !p.isEmpty else { return }
        low = min(low, p.min()!)
        high = max(high, p.max()!)
        if samplesPerBatch > 0 {
            let step = max(1, p.count / samplesPerBatch)
            samples += Swift.stride(from: 0, to: p.count, by: step).map { p[$0] }
        }
    }

    /// The calibrated range: the extremes seen, or the `percentile`-th and (100 - percentile)-th
    /// percentiles of the samples.
    /// - Parameter percentile: in (50, 100]; nil for the extremes.
    public func range(percentile: Double?) -> (low: Float, high: Float) {
        guard low <= high else { return (0, 0) }  // never ran: a layer the forward pass skips
        guard let percentile, !samples.isEmpty else { return (low, high) }
        let sorted = samples.sorted()
        func at(_ q: Double) -> Float { sorted[min(sorted.count - 1, Int((q * Double(sorted.count - 1)).rounded()))] }
        return (at(1 - percentile / 100), at(percentile / 100))
    }
}
