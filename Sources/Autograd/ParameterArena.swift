import TensorCore

/// All parameters of a model in one flat block, and their gradients in a second block of
/// the same layout (as llm.c does).
///
/// Each parameter's `data` and `grad` become views into the arenas, so the optimizer can
/// update every parameter in one pass, zeroing gradients is one memset, and gradient
/// allreduce buckets are slices of `grads` with no copy in or out.
public final class ParameterArena {
    /// Where one parameter lives in the arenas.
    public struct Entry: Sendable {
        public let name: String
        public let shape: Shape
        /// Offset in elements; a multiple of 16 so every view is 64-byte aligned.
        public let offset: Int
        public var count: Int { shape.count }
    }

    public let values: NDArray
    public private(set) var grads: NDArray
    /// The factor every gradient in `grads` still has to be multiplied by.
    ///
    /// Averaging over ranks (1/world after the sum) and clipping fold into this number instead
    /// of making their own pass over the gradients; the optimizer applies it in the pass it
    /// makes anyway. Code that reads gradients directly calls `applyGradientScale()` first.
    public var gradientScale: Float = 1
    public let entries: [Entry]
    public let tensors: [Tensor]

    /// Moves the given parameters into fresh arenas, preserving their values.
    /// - Parameter parameters: (dotted name, tensor) in registration order; names must be unique.
    public init(_ parameters: [(String, Tensor)]) {
        var offset = 0, entries: [Entry] = []
        var seen = Set<String>()
        for (name, t) in parameters {
            precondition(seen.insert(name).inserted, "parameter name \(name) appears twice")
            precondition(t.data.dtype == .float32, "parameter \(name) must be float32, is \(t.data.dtype)")
            entries.append(Entry(name: name, shape: t.shape, offset: offset))
            offset += (t.count + 15) / 16 * 16
        }
        // Huge pages, because MPI reads the gradients every step, and the parameters too when
        // the optimizer is sharded (the allgather after the update): see Storage(hugePagesFor:).
        values = NDArray(shape: [offset], storage: Storage(hugePagesFor: offset * 4))
        grads = NDArray(shape: [offset], storage: Storage(hugePagesFor: offset * 4))
        self.entries = entries
        tensors = parameters.map(\.1)
        for (e, t) in zip(entries, tensors) {
            let v = view(values, e), g = view(grads, e)
            v.assign(t.data)
            t.data = v
            t.grad = g
            t.requiresGrad = true
        }
    }

    /// Moves the gradients, with their values, into `storage` (memory the other ranks of the
    /// node map, see `SharedMemoryAllreduce`), and points every parameter's `grad` there.
    /// Call before anything keeps a reference to a gradient (an optimizer reads the arena's).
    /// - Parameter storage: at least `capacity` floats.
    public func moveGradients(to storage: Storage) {
        precondition(storage.byteCount >= capacity * 4, "\(storage.byteCount) bytes cannot hold \(capacity) gradients")
        let moved = NDArray(shape: [capacity], storage: storage)
        moved.assign(grads)
        grads = moved
        for (e, t) in zip(entries, tensors) { t.grad = view(grads, e) }
    }

    /// Total elements including alignment padding.
    public var capacity: Int { values.count }
    /// Number of trainable scalars.
    public var parameterCount: Int { entries.reduce(0) { $0 + $1.count } }

    /// Sets every gradient to zero in one pass, and the gradient scale back to 1.
    public func zeroGrad() {
        grads.zero()
        gradientScale = 1
    }

    /// Multiplies the gradients by `gradientScale` and resets it to 1, for code that reads
    /// `grads` (or a parameter's `grad`) directly.
    public func applyGradientScale() {
        if gradientScale != 1 { Unary.scaleInPlace(grads, gradientScale) }
        gradientScale = 1
    }

    private func view(_ arena: NDArray, _ e: Entry) -> NDArray {
        NDArray(
            shape: e.shape, storage: Storage(viewOf: arena.storage, byteOffset: e.offset * 4, byteCount: e.count * 4))
    }
}
