import Collective

/// A metric averaged over every sample of every rank (loss, accuracy, ...).
///
/// Each rank adds its local values; `value(over:)` allreduces the sum and the count, so rank
/// 0 reports the global mean whatever the shard sizes.
public struct GlobalAverage: Sendable {
    public private(set) var sum = 0.0
    public private(set) var count = 0.0

    public init() {}

    /// An average that already holds `sum` over `count` samples (a restored partial window).
    public init(sum: Double, count: Double) { (self.sum, self.count) = (sum, count) }

    /// Adds `value` as the mean of `weight` samples.
    public mutating func add(_ value: Double, weight: Double = 1) {
        sum += value * weight
        count += weight
    }

    /// The mean over all ranks; every rank must call it (it is a collective).
    public func value(over communicator: Communicator) -> Double {
        let total = communicator.allreduce([sum, count])
        return total[1] > 0 ? total[0] / total[1] : .nan
    }
}
