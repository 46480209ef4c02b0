/// Count, mean and sum of squared deviations of a stream of values, merged in a fixed order so
/// the result does not depend on how the work was split among threads.
struct RunningMoments {
    private(set) var count = 0.0
    private(set) var mean = 0.0
    private(set) var squaredDeviations = 0.0

    /// Adds a run of values: its mean and squared deviations in two passes, then a merge.
    /// Equal values give exactly 0: their sum in Double is exact, so their mean is the value.
    mutating func add(_ values: UnsafeBufferPointer<Float>) {
        guard !values.isEmpty else { return }
        var sum = 0.0
        for v in values { sum += Double(v) }
        let partMean = sum / Double(values.count)
        var part = RunningMoments(count: Double(values.count), mean: partMean)
        for v in values {
            let d = Double(v) - partMean
            part.squaredDeviations += d * d
        }
        merge(part)
    }

    /// Combines with the moments of another part (Chan, Golub and LeVeque's pairwise update).
    mutating func merge(_ other: RunningMoments) {
        guard other.count > 0 else { return }
        let n = count + other.count, delta = other.mean - mean
        mean += delta * other.count / n
        squaredDeviations += other.squaredDeviations + delta * delta * count * other.count / n
        count = n
    }

    /// The standard deviation with divisor n (torch's `std(unbiased=False)`).
    var populationStd: Double { count > 0 ? (squaredDeviations / count).squareRoot() : 0 }
}
