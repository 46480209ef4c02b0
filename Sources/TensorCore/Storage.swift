#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A reference-counted, 64-byte aligned block of memory, or a view into another one.
///
/// Views let the flat parameter and gradient arenas hand out per-tensor slices that share
/// memory with the arena, so an allreduce over the arena touches every gradient with no copy.
public final class Storage: @unchecked Sendable {
    public static let alignment = 64
    public let raw: UnsafeMutableRawPointer
    public let byteCount: Int
    /// Keeps the parent alive for views; nil for owning storage.
    private let parent: Storage?

    /// Allocates `byteCount` bytes aligned to 64.
    /// - Parameters:
    ///   - byteCount: size in bytes.
    ///   - zeroed: fill with zeros (skip when every byte is about to be written).
    public init(byteCount: Int, zeroed: Bool = true) {
        var p: UnsafeMutableRawPointer?
        let size = max(byteCount, Storage.alignment)
        let rc = posix_memalign(&p, Storage.alignment, size)
        precondition(rc == 0 && p != nil, "out of memory allocating \(byteCount) bytes")
        if zeroed { memset(p!, 0, size) }
        raw = p!
        self.byteCount = byteCount
        parent = nil
    }

    /// A view of `byteCount` bytes of `parent` starting at `byteOffset`.
    public init(viewOf parent: Storage, byteOffset: Int, byteCount: Int) {
        precondition(byteOffset >= 0 && byteOffset + byteCount <= parent.byteCount,
                     "view [\(byteOffset), \(byteOffset + byteCount)) exceeds storage of \(parent.byteCount) bytes")
        raw = parent.raw + byteOffset
        self.byteCount = byteCount
        self.parent = parent
    }

    deinit { if parent == nil { free(raw) } }
}
