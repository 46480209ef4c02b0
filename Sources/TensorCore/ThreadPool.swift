import CSupport
import Synchronization
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One persistent pool of worker threads per process; the caller is thread 0.
///
/// `DispatchQueue.concurrentPerform` runs small jobs serially on the caller and pays a
/// dispatch per call, which the many small kernels of a training step cannot afford.
/// Workers here spin on a generation counter for a short while after each job, so a
/// following job starts within a microsecond, then park on a condition variable so an idle
/// process does not burn its cores. A job submitted while the pool is busy (a kernel called
/// from inside another kernel's parallel region) runs serially on its caller.
public final class ThreadPool: @unchecked Sendable {
    /// The process-wide pool. Replace it with `configure(threads:)`.
    public private(set) static var shared = ThreadPool(threads: defaultThreadCount())

    /// When true, kernels that sum per-thread partial results (conv2d's weight gradient) split
    /// their work into a fixed number of parts instead of one per thread, so their bits do not
    /// depend on the thread count (deterministic mode).
    nonisolated(unsafe) public static var fixedPartitions = false

    /// Sets the process-wide thread count, replacing the shared pool.
    /// - Parameter threads: total threads including the caller; at least 1.
    public static func configure(threads: Int) {
        precondition(threads >= 1, "thread count must be at least 1, got \(threads)")
        if shared.threadCount != threads { shared = ThreadPool(threads: threads) }
    }

    /// Threads per process: `TANDEM_NUM_THREADS` if set, else the cores divided by the
    /// ranks on this node (`OMPI_COMM_WORLD_LOCAL_SIZE` under mpirun), at least 1.
    public static func defaultThreadCount() -> Int {
        let env = ProcessInfoLite.environment
        if let s = env["TANDEM_NUM_THREADS"], let n = Int(s), n >= 1 { return n }
        let local =
            env["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init)
            ?? env["SLURM_NTASKS_PER_NODE"].flatMap(Int.init) ?? 1
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) / max(1, local))
    }

    public let threadCount: Int
    private let generation = Atomic<Int>(0)
    private let remaining = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    private var job: ((Int, Int) -> Void)?
    private var jobThreads = 1
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let cond: UnsafeMutablePointer<pthread_cond_t>
    private var threads: [pthread_t] = []
    /// Waits before a worker parks: `SpinWait.pausing` pauses, then yields (about 200 µs in all).
    private let spinLimit = SpinWait.pausing + 200

    init(threads: Int) {
        threadCount = threads
        mutex = .allocate(capacity: 1)
        cond = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
        for id in 1..<max(threads, 1) {
            let box = Unmanaged.passRetained(WorkerStart(pool: self, id: id)).toOpaque()
            var t = pthread_t()
            let rc = pthread_create(
                &t, nil,
                { arg in
                    let start = Unmanaged<WorkerStart>.fromOpaque(arg!).takeRetainedValue()
                    start.pool.workerLoop(id: start.id)
                    return nil
                }, box)
            precondition(rc == 0, "could not start worker thread \(id): error \(rc)")
            self.threads.append(t)
        }
    }

    deinit {
        stopping.store(true, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(mutex); pthread_cond_broadcast(cond); pthread_mutex_unlock(mutex)
        for t in threads { pthread_join(t, nil) }
        pthread_cond_destroy(cond); pthread_mutex_destroy(mutex)
        mutex.deallocate(); cond.deallocate()
    }

    private final class WorkerStart {
        // Not retained: a strong or checked reference would keep the pool alive forever.
        unowned(unsafe) let pool: ThreadPool
        let id: Int
        init(pool: ThreadPool, id: Int) { self.pool = pool; self.id = id }
    }

    private func workerLoop(id: Int) {
        var seen = 0
        while true {
            var spin = SpinWait()
            while generation.load(ordering: .acquiring) == seen {
                spin.wait()
                if spin.count >= spinLimit {
                    pthread_mutex_lock(mutex)
                    sleepers.add(1, ordering: .sequentiallyConsistent)
                    while generation.load(ordering: .sequentiallyConsistent) == seen { pthread_cond_wait(cond, mutex) }
                    sleepers.subtract(1, ordering: .sequentiallyConsistent)
                    pthread_mutex_unlock(mutex)
                }
            }
            seen = generation.load(ordering: .acquiring)
            if stopping.load(ordering: .acquiring) { return }
            let n = jobThreads
            if id < n { job!(id, n) }
            remaining.subtract(1, ordering: .releasing)
        }
    }

    /// Runs `body(tid, nthreads)` once on each of `nthreads` threads and waits for all.
    /// - Parameters:
    ///   - threads: how many threads to use, at most `threadCount` (default all).
    ///   - body: the work of one thread; thread 0 is the caller.
    public func parallel(threads: Int? = nil, _ body: (_ tid: Int, _ nthreads: Int) -> Void) {
        let n = min(threads ?? threadCount, threadCount)
        if n <= 1 || !busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
            body(0, 1)
            return
        }
        withoutActuallyEscaping(body) { escaping in
            job = escaping
            jobThreads = n
            remaining.store(threadCount - 1, ordering: .relaxed)
            generation.add(1, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(mutex); pthread_cond_broadcast(cond); pthread_mutex_unlock(mutex)
            }
            escaping(0, n)
            var spin = SpinWait()
            while remaining.load(ordering: .acquiring) > 0 { spin.wait() }
            job = nil
        }
        busy.store(false, ordering: .releasing)
    }

    /// Splits `0..<count` into contiguous chunks of at least `grain` items, one per thread.
    /// - Parameters:
    ///   - count: number of items.
    ///   - grain: smallest chunk worth a thread; below it the loop runs on the caller.
    ///   - body: processes one chunk.
    public func parallelFor(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        if count <= 0 { return }
        let n = min(threadCount, max(1, count / max(grain, 1)))
        if n <= 1 { body(0..<count); return }
        parallel(threads: n) { tid, nt in
            let r = ThreadPool.chunk(count, parts: nt, index: tid)
            if !r.isEmpty { body(r) }
        }
    }

    /// The `index`-th of `parts` near-equal contiguous chunks of `0..<count`.
    @inline(__always)
    public static func chunk(_ count: Int, parts: Int, index: Int) -> Range<Int> {
        let base = count / parts, extra = count % parts
        let start = index * base + min(index, extra)
        return start..<(start + base + (index < extra ? 1 : 0))
    }
}

/// A sense-reversing spin barrier for the threads of one `parallel` region.
public final class SpinBarrier: @unchecked Sendable {
    private let count: Int
    private let arrived = Atomic<Int>(0)
    private let phase = Atomic<Int>(0)

    public init(count: Int) { self.count = count }

    /// Blocks until `count` threads have called `wait` in this phase.
    public func wait() {
        if count <= 1 { return }
        let myPhase = phase.load(ordering: .acquiring)
        if arrived.add(1, ordering: .acquiringAndReleasing).newValue == count {
            arrived.store(0, ordering: .relaxed)
            phase.add(1, ordering: .releasing)
        } else {
            var spin = SpinWait()
            while phase.load(ordering: .acquiring) == myPhase { spin.wait() }
        }
    }
}

/// One spin loop's waiting, escalating: the pause hint first, then `sched_yield`.
///
/// The loops here wait for another thread of the same process, which a loaded machine may
/// have descheduled: a bare loop then burns the rest of its time slice. The pause hint lets a
/// hypervisor's pause-loop exiting run the other vCPU, and the yields let the OS run the other
/// thread on this core. (The shared-memory allreduce waits for other processes the same way.)
public struct SpinWait {
    /// Pauses before the first yield: about 60 µs at this machine's 28 ns a pause.
    static let pausing = 2_000
    public private(set) var count = 0

    public init() {}

    @inline(__always)
    public mutating func wait() {
        count += 1
        if count <= Self.pausing { tandem_spin_pause() } else { sched_yield() }
    }
}
