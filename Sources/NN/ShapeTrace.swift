import Autograd

/// Records the output shape of every layer a forward pass calls, for model summaries
/// (`tandem inspect-model`). Off unless `recording` runs; a layer's cost is then one check.
public enum ShapeTrace {
    /// The shapes noted so far by module identity, or nil when no summary is being made.
    nonisolated(unsafe) static var shapes: [ObjectIdentifier: Shape]?

    /// Notes `y` as the output of `module` while recording; returns `y`.
    @inline(__always) public static func note(_ module: AnyObject, _ y: Tensor) -> Tensor {
        if shapes != nil { shapes![ObjectIdentifier(module)] = y.shape }
        return y
    }

    /// Runs `body` (one forward pass) and returns the last output shape of each module it called.
    /// - Parameter body: the forward pass, on the calling thread.
    public static func recording(_ body: () throws -> Void) rethrows -> [ObjectIdentifier: Shape] {
        shapes = [:]
        defer { shapes = nil }
        try body()
        return shapes ?? [:]
    }
}
