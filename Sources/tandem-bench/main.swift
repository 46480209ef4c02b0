import ArgumentParser

/// Benchmarks of Tandem's kernels and training step; scripts depend on its interface (docs/BENCHMARKS.md).
struct TandemBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tandem-bench",
        abstract: "Benchmarks for Tandem. Each one checks its result against a naive reference before timing.",
        subcommands: [GemmBenchmark.self, StepBenchmark.self, AllreduceBenchmark.self, InferenceBenchmark.self])
}

TandemBench.main()
