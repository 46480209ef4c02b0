/// Median-of-runs timing shared by the benchmarks.
enum Stopwatch {
    /// Runs `body` `warmup` times untimed, then `runs` times, and returns the median in ms.
    static func medianMs(warmup: Int, runs: Int, _ body: () -> Void) -> Double {
        interleavedMedianMs(warmup: warmup, runs: runs, count: 1) { _ in body() }[0]
    }

    /// Runs `body(0)`, ..., `body(count - 1)` in turn, `warmup` rounds untimed, then `runs`
    /// rounds, and returns each one's median in ms. Interleaved, the settings compared share
    /// the machine's slow and quiet minutes, which on this VM swing a step by 30-50%.
    static func interleavedMedianMs(warmup: Int, runs: Int, count: Int, _ body: (Int) -> Void) -> [Double] {
        for _ in 0..<warmup { for i in 0..<count { body(i) } }
        let clock = ContinuousClock()
        var samples = [[Double]](repeating: [], count: count)
        for _ in 0..<runs {
            for i in 0..<count {
                let d = clock.measure { body(i) }
                samples[i].append(Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) * 1e-15)
            }
        }
        return samples.map { $0.sorted()[$0.count / 2] }
    }
}
