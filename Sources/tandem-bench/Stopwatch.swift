/// Median-of-runs timing shared by the benchmarks.
enum Stopwatch {
    /// Runs `body` `warmup` times untimed, then `runs` times, and returns the median in ms.
    static func medianMs(warmup: Int, runs: Int, _ body: () -> Void) -> Double {
        for _ in 0..<warmup { body() }
        let clock = ContinuousClock()
        var samples: [Double] = []
        samples.reserveCapacity(runs)
        for _ in 0..<runs {
            let d = clock.measure(body)
            samples.append(Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) * 1e-15)
        }
        samples.sort()
        return samples[samples.count / 2]
    }
}
