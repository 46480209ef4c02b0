/// A mistake in what `tandem predict` was given: an input it cannot read, or one that does not
/// fit the run's model. The message names the input and what to give instead (exit status 2).
public struct PredictionMistake: Error, CustomStringConvertible, Equatable {
    public let description: String

    /// - Parameter description: the whole message.
    public init(_ description: String) { self.description = description }
}
