/// What a finished run reports.
public struct TrainResult {
    /// The run directory (rank 0's view; nil on other ranks).
    public let runDirectory: String?
    public let steps: Int
    public let epochs: Int
    public let stoppedEarly: Bool
    /// The last validation metrics, and the final evaluation (the test split, or validation
    /// when the dataset has none) with the name of its split.
    public let validation: EvaluationMetrics?
    public let final: EvaluationMetrics?
    public let finalSplit: String
    /// The signal (SIGTERM, SIGINT, SIGUSR1) that stopped the run at a step boundary, after a
    /// checkpoint; nil when the run finished.
    public let stoppedBySignal: Int32?
}
