/// Whether the backward pass running on this thread frees the graph as it goes
/// (`backward(retainGraph: false)`, the default).
///
/// An op's saved state is then read by its VJP exactly once, so the VJP may write its
/// input's gradient over it instead of allocating: the LSTM's gate gradients go over its
/// saved gates, which keeps a second (B, T, 4H) array out of the backward peak.
public enum GraphRelease {
    private static let flag = ThreadLocalWord()

    /// True inside the VJPs of a backward pass that releases the graph (false elsewhere,
    /// including a VJP called directly).
    public static var isReleasing: Bool { flag.value != 0 }

    /// Runs `body` with `isReleasing` set to `releasing` on this thread, restoring it afterwards.
    static func during<R>(_ releasing: Bool, _ body: () throws -> R) rethrows -> R {
        try flag.with(releasing ? 1 : 0, body)
    }
}
