import CSupport
import Synchronization
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
    /// Length of the mapping for storage from `init(hugePagesFor:)`; 0 for malloc'ed storage.
    private let mappedBytes: Int
    /// What maps storage from `init(mappedBy:raw:byteCount:)`; nil otherwise.
    private var owner: AnyObject? = nil

    /// Allocates `byteCount` bytes aligned to 64.
    /// - Parameters:
    ///   - byteCount: size in bytes.
    ///   - zeroed: fill with zeros (skip when every byte is about to be written).
    public convenience init(byteCount: Int, zeroed: Bool = true) {
        self.init(byteCount: byteCount, zeroed: zeroed, shape: nil, dtype: nil)
    }

    /// Allocates `byteCount` bytes aligned to 64 for a tensor, named in the message if it fails.
    /// - Parameters:
    ///   - byteCount: size in bytes.
    ///   - zeroed: fill with zeros.
    ///   - shape: the tensor's shape, for `AllocationFailure`.
    ///   - dtype: the tensor's type, for `AllocationFailure`.
    public init(byteCount: Int, zeroed: Bool, shape: [Int]?, dtype: DType?) {
        var p: UnsafeMutableRawPointer?
        let size = max(byteCount, Storage.alignment)
        // A failure is reported in words (never a trap): see AllocationFailure.handler.
        if byteCount < 0 || posix_memalign(&p, Storage.alignment, size) != 0 || p == nil {
            AllocationFailure.fail(bytes: byteCount < 0 ? nil : byteCount, shape: shape, dtype: dtype)
        }
        if zeroed { memset(p!, 0, size) }
        raw = p!
        self.byteCount = byteCount
        parent = nil
        mappedBytes = 0
        Storage.track(size)
    }

    /// Allocates `byteCount` zeroed bytes in whole 2 MiB pages, and asks Linux to back them
    /// with transparent huge pages.
    ///
    /// For the gradient arena, which MPI reads every step. Open MPI's shared-memory transport
    /// reads a peer's buffer with process_vm_readv, which pins it page by page; with 4 KiB
    /// pages the pinning cost more than the copy. Measured with THP switched on and off: the
    /// MLP's 0.94 MB gradient allreduce takes 0.07 instead of 0.11-0.12 ms. Costs at most
    /// 2 MiB of padding; mapped apart from malloc's heap so freeing returns it to the system.
    /// - Parameter byteCount: size in bytes.
    public init(hugePagesFor byteCount: Int) {
        let page = Storage.hugePageBytes
        guard byteCount >= 0, byteCount <= Int.max - 2 * page else {
            AllocationFailure.fail(bytes: byteCount < 0 ? nil : byteCount, shape: nil, dtype: nil)
        }
        let size = (max(byteCount, 1) + page - 1) / page * page
        // Its own mapping, outside malloc's heap: map one page more, then unmap the ends
        // that fall outside a 2 MiB-aligned range.
        guard let m = mmap(nil, size + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
            m != MAP_FAILED
        else { AllocationFailure.fail(bytes: byteCount, shape: nil, dtype: nil) }
        let start = (Int(bitPattern: m) + page - 1) / page * page
        let head = start - Int(bitPattern: m)
        if head > 0 { munmap(m, head) }
        munmap(UnsafeMutableRawPointer(bitPattern: start + size)!, page - head)
        raw = UnsafeMutableRawPointer(bitPattern: start)!
        #if os(Linux)
            _ = madvise(raw, size, MADV_HUGEPAGE)  // advice only: without THP the pages stay 4 KiB
        #endif
        self.byteCount = byteCount
        mappedBytes = size
        parent = nil
        Storage.track(size)
    }

    /// Memory mapped by someone else (`owner`, kept alive as long as this storage): a rank's
    /// gradient arena in memory the other ranks of its node map too. Counted as live tensor
    /// memory, never freed here.
    /// - Parameters:
    ///   - raw: 64-byte aligned.
    ///   - byteCount: size in bytes.
    ///   - owner: unmaps the memory when it is released.
    public init(mappedBy owner: AnyObject, raw: UnsafeMutableRawPointer, byteCount: Int) {
        precondition(
            Int(bitPattern: raw) % Storage.alignment == 0, "mapped storage must be \(Storage.alignment)-byte aligned")
        self.raw = raw
        self.byteCount = byteCount
        parent = nil
        mappedBytes = 0
        self.owner = owner
        Storage.track(byteCount)
    }

    /// The x86-64 transparent huge page.
    public static let hugePageBytes = 2 << 20

    /// A view of `byteCount` bytes of `parent` starting at `byteOffset`.
    public init(viewOf parent: Storage, byteOffset: Int, byteCount: Int) {
        precondition(
            byteOffset >= 0 && byteOffset + byteCount <= parent.byteCount,
            "view [\(byteOffset), \(byteOffset + byteCount)) exceeds storage of \(parent.byteCount) bytes")
        raw = parent.raw + byteOffset
        self.byteCount = byteCount
        self.parent = parent
        mappedBytes = 0
    }

    deinit {
        if owner != nil {
            Storage.track(-byteCount)
        } else if mappedBytes > 0 {
            munmap(raw, mappedBytes)
            Storage.track(-mappedBytes)
        } else if parent == nil {
            free(raw)
            Storage.track(-max(byteCount, Storage.alignment))
        }
    }

    private static let live = Atomic<Int>(0)
    private static let peak = Atomic<Int>(0)

    /// Counts an allocation (positive) or a free (negative), raising the peak.
    private static func track(_ bytes: Int) {
        let now = live.add(bytes, ordering: .relaxed).newValue
        var seen = peak.load(ordering: .relaxed)
        while now > seen {
            let (exchanged, current) = peak.compareExchange(expected: seen, desired: now, ordering: .relaxed)
            if exchanged { break }
            seen = current
        }
    }

    /// Bytes of tensor storage alive now: what the program holds, as opposed to the resident
    /// set, which also counts what the allocator keeps for reuse (see `keepBlocksInHeap`).
    public static var liveBytes: Int { live.load(ordering: .relaxed) }

    /// The most bytes of tensor storage alive at once since the last `resetPeakBytes()`.
    public static var peakBytes: Int { peak.load(ordering: .relaxed) }

    /// Starts a new peak from the bytes alive now (to measure one phase, such as a step).
    public static func resetPeakBytes() { peak.store(live.load(ordering: .relaxed), ordering: .relaxed) }

    /// Training frees and reallocates the same activation sizes every step. By default glibc
    /// maps blocks above about 128 KiB straight from the OS and unmaps them on free, so every
    /// step page-faults its activations in again (measured: LeNet-5's step 12.4 -> 10.6 ms,
    /// and more with several processes per node). Raising the mmap threshold to glibc's
    /// maximum (32 MiB) and the trim threshold keeps freed blocks in the heap for reuse;
    /// peak memory is unchanged. Every thread also shares that one heap: Open MPI's buffers
    /// for a bucket allreduced on the communication thread otherwise came from a per-thread
    /// arena, and copying into them was slower (16 MiB through the gradient path: 2.98-3.11
    /// against 2.50-2.76 ms, measured with MALLOC_ARENA_MAX=1; steps unchanged).
    /// True when the allocator accepted the settings (glibc); `tandem info` reports it.
    /// The settings are made by CSupport as the program loads, before MPI starts any thread.
    public static var keepBlocksInHeap: Bool { tandem_heap_configured() == 1 }
}
