import Autograd

/// Records the output shape of every layer a forward pass calls, for model summaries
/// (`tandem inspect-model`). Off unless `recording` runs; a layer's cost is then one check.
public enum ShapeTrace {
    /// The shapes one recording has noted, by module identity.
    private final class Recording: @unchecked Sendable {
        var shapes: [ObjectIdentifier: Shape] = [:]
    }

    /// The recording of the calling thread or task, so that forward passes elsewhere are not noted.
    @TaskLocal private static var current: Recording?

    /// Notes `y` as the output of `module` while recording; returns `y`.
    @inline(__always) public static func note(_ module: AnyObject, _ y: Tensor) -> Tensor {
        if let recording = current { recording.shapes[ObjectIdentifier(module)] = y.shape }
        return y
    }

    /// Runs `body` (one forward pass) and returns the last output shape of each module it called.
    /// - Parameter body: the forward pass, on the calling thread.
    public static func recording(_ body: () throws -> Void) rethrows -> [ObjectIdentifier: Shape] {
        let recording = Recording()
        try $current.withValue(recording) { try body() }
        return recording.shapes
    }
}
