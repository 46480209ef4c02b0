/// Row-at-a-time access to an array stored in fp32 or in 16 bits, for the kernels that work a
/// row at a time (layer norm, softmax, GELU blocks).
///
/// An fp32 row is used in place; a 16-bit row is widened into a small per-thread buffer on
/// load and rounded from it on store, so a 16-bit activation is never copied whole to fp32.
struct RowAccess {
    let raw: UnsafeMutableRawPointer
    let dtype: DType

    init(_ a: NDArray) {
        precondition(a.dtype == .float32 || a.isHalf, "row access needs a float array, got \(a.dtype)")
        (raw, dtype) = (a.storage.raw, a.dtype)
    }

    /// The `n` values at `offset` as fp32: a pointer into the array, or `scratch` holding them widened.
    @inline(__always)
    func load(_ offset: Int, _ n: Int, _ scratch: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
        if dtype == .float32 { return raw.assumingMemoryBound(to: Float.self) + offset }
        HalfCast.widenBlock(raw.assumingMemoryBound(to: UInt16.self) + offset, scratch, n, dtype)
        return scratch
    }

    /// Where a kernel writes `n` fp32 values for `offset`: the array itself, or `scratch`
    /// (then `store` rounds them in).
    @inline(__always)
    func target(_ offset: Int, _ scratch: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
        dtype == .float32 ? raw.assumingMemoryBound(to: Float.self) + offset : scratch
    }

    /// Rounds the `n` values a kernel wrote to `target(offset, scratch)` into the array.
    @inline(__always)
    func store(_ offset: Int, _ n: Int, _ scratch: UnsafeMutablePointer<Float>) {
        if dtype != .float32 {
            HalfCast.narrowBlock(scratch, raw.assumingMemoryBound(to: UInt16.self) + offset, n, dtype)
        }
    }

    /// Runs `body` with `count` scratch buffers of `n` floats each, on the calling thread.
    @inline(__always)
    static func withScratch<R>(_ count: Int, _ n: Int, _ body: (UnsafeMutablePointer<Float>) -> R) -> R {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: max(count * n, 1)) { body($0.baseAddress!) }
    }
}
