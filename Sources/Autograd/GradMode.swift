/// Whether ops record themselves for backward.
///
/// Evaluation, optimizer updates and metric computation run under `withNoGrad`, so they
/// neither build a tape nor keep activations alive.
public enum GradMode {
    /// Ops record only while this is true (the default).
    public private(set) static var isEnabled = true

    /// Runs `body` with recording switched off, restoring the previous mode afterwards.
    public static func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
        let saved = isEnabled
        isEnabled = false
        defer { isEnabled = saved }
        return try body()
    }
}

/// Runs `body` without recording ops for backward (PyTorch's `torch.no_grad()`).
public func withNoGrad<R>(_ body: () throws -> R) rethrows -> R { try GradMode.withNoGrad(body) }
