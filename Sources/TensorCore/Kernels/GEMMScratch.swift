#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Per-thread packing buffers for the GEMM, grown on demand and kept for the thread's life.
///
/// Allocating panels per call would page-fault megabytes every step; a thread-local buffer
/// is also safe when GEMMs run concurrently on several threads (batched matmul).
final class GEMMScratch {
    private(set) var a: UnsafeMutablePointer<Float>
    private(set) var b: UnsafeMutablePointer<Float>
    private var aCount = 0, bCount = 0

    private init() {
        a = GEMMScratch.alloc(0)
        b = GEMMScratch.alloc(0)
    }

    func reserve(a na: Int, b nb: Int) {
        if na > aCount { free(a); a = GEMMScratch.alloc(na); aCount = na }
        if nb > bCount { free(b); b = GEMMScratch.alloc(nb); bCount = nb }
    }

    private static func alloc(_ n: Int) -> UnsafeMutablePointer<Float> {
        var p: UnsafeMutableRawPointer?
        precondition(posix_memalign(&p, 64, max(n, 16) * 4) == 0, "out of memory for GEMM panels")
        return p!.assumingMemoryBound(to: Float.self)
    }

    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k) { raw in
            #if canImport(Glibc)
                Unmanaged<GEMMScratch>.fromOpaque(raw!).release()
            #else
                Unmanaged<GEMMScratch>.fromOpaque(raw).release()
            #endif
        }
        return k
    }()

    /// The calling thread's buffers.
    static var current: GEMMScratch {
        if let p = pthread_getspecific(key) { return Unmanaged<GEMMScratch>.fromOpaque(p).takeUnretainedValue() }
        let s = GEMMScratch()
        pthread_setspecific(key, Unmanaged.passRetained(s).toOpaque())
        return s
    }

    deinit { free(a); free(b) }
}
