import CSupport
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
        _ = Storage.keepBlocksInHeap
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

    /// Training frees and reallocates the same activation sizes every step. By default glibc
    /// maps blocks above about 128 KiB straight from the OS and unmaps them on free, so every
    /// step page-faults its activations in again (measured: LeNet-5's step 12.4 -> 10.6 ms,
    /// and more with several processes per node). Raising the mmap threshold to glibc's
    /// maximum (32 MiB) and the trim threshold keeps freed blocks in the heap for reuse;
    /// peak memory is unchanged.
    /// True when the allocator accepted the settings (glibc); `tandem info` reports it.
    public static let keepBlocksInHeap: Bool = tandem_keep_blocks_in_heap(32 << 20, 1 << 30) == 1
}
