#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether the backward pass running on this thread frees the graph as it goes
/// (`backward(retainGraph: false)`, the default).
///
/// An op's saved state is then read by its VJP exactly once, so the VJP may write its
/// input's gradient over it instead of allocating: the LSTM's gate gradients go over its
/// saved gates, which keeps a second (B, T, 4H) array out of the backward peak.
public enum GraphRelease {
    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        return k
    }()
    private static let releasingMarker = UnsafeMutableRawPointer(bitPattern: 1)!

    /// True inside the VJPs of a backward pass that releases the graph (false elsewhere,
    /// including a VJP called directly).
    public static var isReleasing: Bool { pthread_getspecific(key) != nil }

    /// Runs `body` with `isReleasing` set to `releasing` on this thread, restoring it afterwards.
    static func during<R>(_ releasing: Bool, _ body: () throws -> R) rethrows -> R {
        let saved = isReleasing
        pthread_setspecific(key, releasing ? releasingMarker : nil)
        defer { pthread_setspecific(key, saved ? releasingMarker : nil) }
        return try body()
    }
}
