/// A contiguous row-major n-dimensional array: a shape, a dtype and shared storage.
///
/// NDArray has reference semantics for its elements (like a PyTorch tensor): copies of the
/// struct share storage. Every kernel takes NDArrays or raw pointers; none of them allocates
/// behind the caller's back except to return a result.
public struct NDArray: @unchecked Sendable, CustomStringConvertible {
    public let shape: Shape
    public let dtype: DType
    public let storage: Storage

    /// A new array; zero-filled unless `zeroed` is false.
    public init(shape: Shape, dtype: DType = .float32, zeroed: Bool = true) {
        self.shape = shape
        self.dtype = dtype
        // Checked: a shape from a config can overflow Int, which must be an error, not a trap.
        guard let bytes = AllocationFailure.byteCount(shape.dims, elementSize: dtype.byteSize) else {
            AllocationFailure.fail(bytes: nil, shape: shape.dims, dtype: dtype)
        }
        storage = Storage(byteCount: bytes, zeroed: zeroed, shape: shape.dims, dtype: dtype)
    }

    /// Wraps existing storage, which must hold at least `shape.count` elements.
    public init(shape: Shape, dtype: DType = .float32, storage: Storage) {
        precondition(
            storage.byteCount >= shape.count * dtype.byteSize,
            "storage of \(storage.byteCount) bytes is too small for \(dtype) \(shape)")
        self.shape = shape
        self.dtype = dtype
        self.storage = storage
    }

    /// A float32 array holding `values`, which must have `shape.count` elements.
    public init(_ values: [Float], shape: Shape) {
        precondition(values.count == shape.count, "\(values.count) values do not fill shape \(shape)")
        self.init(shape: shape, zeroed: false)
        values.withUnsafeBufferPointer { ptr.update(from: $0.baseAddress!, count: values.count) }
    }

    /// An int32 array holding `values` (labels, token ids).
    public init(indices values: [Int32], shape: Shape) {
        precondition(values.count == shape.count, "\(values.count) values do not fill shape \(shape)")
        self.init(shape: shape, dtype: .int32, zeroed: false)
        values.withUnsafeBufferPointer { int32Pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    /// A float32 array filled with `value`.
    public init(repeating value: Float, shape: Shape) {
        self.init(shape: shape, zeroed: value == 0)
        if value != 0 { ptr.update(repeating: value, count: count) }
    }

    /// A rank-0 float32 array.
    public static func scalar(_ v: Float) -> NDArray { NDArray([v], shape: []) }

    public var count: Int { shape.count }
    public var rank: Int { shape.rank }

    /// The float32 elements; traps if the dtype is not float32.
    public var ptr: UnsafeMutablePointer<Float> {
        precondition(dtype == .float32, "expected a float32 array, got \(dtype); cast it with converted(to: .float32)")
        return storage.raw.assumingMemoryBound(to: Float.self)
    }
    /// The int32 elements; traps if the dtype is not int32.
    public var int32Pointer: UnsafeMutablePointer<Int32> {
        precondition(dtype == .int32, "expected an int32 array, got \(dtype)")
        return storage.raw.assumingMemoryBound(to: Int32.self)
    }
    /// The raw 16-bit elements of a float16 or bfloat16 array.
    public var halfBits: UnsafeMutablePointer<UInt16> {
        precondition(dtype == .float16 || dtype == .bfloat16, "expected a 16-bit float array, got \(dtype)")
        return storage.raw.assumingMemoryBound(to: UInt16.self)
    }

    /// The elements as Float (converting from any dtype).
    public var scalars: [Float] {
        switch dtype {
        case .float32: return Array(UnsafeBufferPointer(start: ptr, count: count))
        case .int32: return UnsafeBufferPointer(start: int32Pointer, count: count).map(Float.init)
        case .float16, .bfloat16: return converted(to: .float32).scalars
        case .int8:
            return UnsafeBufferPointer(start: storage.raw.assumingMemoryBound(to: Int8.self), count: count).map(
                Float.init)
        case .uint8:
            return UnsafeBufferPointer(start: storage.raw.assumingMemoryBound(to: UInt8.self), count: count).map(
                Float.init)
        case .int64:
            return UnsafeBufferPointer(start: storage.raw.assumingMemoryBound(to: Int64.self), count: count).map(
                Float.init)
        }
    }
    /// The elements of an int32 array.
    public var indices: [Int32] { Array(UnsafeBufferPointer(start: int32Pointer, count: count)) }
    /// The single element of a one-element array.
    public var item: Float {
        precondition(count == 1, "item() needs one element, shape is \(shape)"); return scalars[0]
    }

    /// The same elements under a new shape of equal count; shares storage.
    public func reshaped(_ newShape: Shape) -> NDArray {
        precondition(newShape.count == count, "cannot reshape \(shape) (\(count) elements) to \(newShape)")
        return NDArray(shape: newShape, dtype: dtype, storage: storage)
    }

    /// A deep copy with its own storage.
    public func copy() -> NDArray {
        let out = NDArray(shape: shape, dtype: dtype, zeroed: false)
        out.storage.raw.copyMemory(from: storage.raw, byteCount: count * dtype.byteSize)
        return out
    }

    /// Copies the elements of `other` (same count and dtype) into this array.
    public func assign(_ other: NDArray) {
        precondition(
            other.count == count && other.dtype == dtype,
            "assign: \(other.dtype) \(other.shape) into \(dtype) \(shape)")
        storage.raw.copyMemory(from: other.storage.raw, byteCount: count * dtype.byteSize)
    }

    /// Sets every element to zero.
    public func zero() { storage.raw.initializeMemory(as: UInt8.self, repeating: 0, count: count * dtype.byteSize) }

    public var description: String {
        let s = scalars
        let body =
            s.count <= 16
            ? s.map { "\($0)" }.joined(separator: ", ")
            : s.prefix(8).map { "\($0)" }.joined(separator: ", ") + ", ..."
        return "NDArray(\(dtype) \(shape): [\(body)])"
    }
}
