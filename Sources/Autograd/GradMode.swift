#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether ops record themselves for backward, per thread (as PyTorch's grad mode).
///
/// Evaluation, optimizer updates and metric computation run under `withNoGrad`, so they
/// neither build a tape nor keep activations alive. The mode is thread-local so that a
/// no-grad region on one thread (a data loader, a test running beside another) never
/// switches recording off for the others.
public enum GradMode {
    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        return k
    }()
    /// Any non-nil value marks "disabled"; nil (the default for every thread) is enabled.
    private static let disabledMarker = UnsafeMutableRawPointer(bitPattern: 1)!

    /// Ops record only while this is true (the default on every thread).
    public static var isEnabled: Bool { pthread_getspecific(key) == nil }

    private static func set(_ enabled: Bool) { pthread_setspecific(key, enabled ? nil : disabledMarker) }

    /// Runs `body` with recording switched off on this thread, restoring the mode afterwards.
    public static func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
        let saved = isEnabled
        set(false)
        defer { set(saved) }
        return try body()
    }
}

/// Runs `body` without recording ops for backward (PyTorch's `torch.no_grad()`).
public func withNoGrad<R>(_ body: () throws -> R) rethrows -> R { try GradMode.withNoGrad(body) }
