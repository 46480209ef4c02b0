import Training

/// A mistake in a command's arguments found while it runs (exit status 2).
struct UsageMistake: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension JobFailure {
    /// The exit status for `error`: 2 for a config, command-line or input mistake, 1 otherwise.
    static func status(of error: Error) -> Int32 {
        error is ConfigError || error is UsageMistake || error is PredictionMistake ? 2 : 1
    }
}
