/// Whether ops record themselves for backward, per thread (as PyTorch's grad mode).
///
/// Evaluation, optimizer updates and metric computation run under `withNoGrad`, so they
/// neither build a tape nor keep activations alive. The mode is thread-local so that a
/// no-grad region on one thread (a data loader, a test running beside another) never
/// switches recording off for the others.
public enum GradMode {
    /// 1 marks "disabled"; 0 (the default for every thread) is enabled.
    private static let disabled = ThreadLocalWord()

    /// Ops record only while this is true (the default on every thread).
    public static var isEnabled: Bool { disabled.value == 0 }

    /// Runs `body` with recording switched off on this thread, restoring the mode afterwards.
    public static func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
        try disabled.with(1, body)
    }
}

/// Runs `body` without recording ops for backward (PyTorch's `torch.no_grad()`).
public func withNoGrad<R>(_ body: () throws -> R) rethrows -> R { try GradMode.withNoGrad(body) }
