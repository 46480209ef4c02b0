#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One small integer per thread, 0 on every thread until set: the storage behind the
/// autograd modes (grad mode, autocast, graph release), which must never leak from one
/// thread (a data loader, a test running beside another) into the others.
struct ThreadLocalWord {
    private let key: pthread_key_t

    init() {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        key = k
    }

    /// This thread's value.
    var value: Int { Int(bitPattern: pthread_getspecific(key)) }

    /// Runs `body` with this thread's value set to `newValue`, restoring the old one afterwards.
    func with<R>(_ newValue: Int, _ body: () throws -> R) rethrows -> R {
        let saved = pthread_getspecific(key)
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: newValue))
        defer { pthread_setspecific(key, saved) }
        return try body()
    }
}
