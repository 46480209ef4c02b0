import Synchronization
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Memory a tensor could not get: how much, its shape, and what was being built.
///
/// Storage cannot throw (every kernel allocates its result), so a failed allocation goes to
/// `AllocationFailure.handler`, which reports it in words and ends the process; a command
/// that runs under mpirun installs one that ends every rank.
public struct AllocationFailure: Error, CustomStringConvertible, Sendable {
    /// Bytes asked for; nil when the size does not fit in an Int.
    public let bytes: Int?
    /// The tensor's shape, when known.
    public let shape: [Int]?
    public let dtype: DType?
    /// What was being built and the key that sizes it, from `labeled(_:fix:_:)`.
    public let context: Context?

    /// What a caller was allocating for, and how a user makes it smaller.
    public struct Context: Sendable {
        public let what: String
        public let fix: String
    }

    public var description: String {
        let size = bytes.map(Self.format) ?? "more than \(Self.format(Int.max))"
        let type = dtype.map { "\($0) " } ?? ""
        let dims = shape.map { $0.map(String.init).joined(separator: ", ") }
        let tensor = dims.map { "a \(type)tensor of shape (\($0))" } ?? "a tensor"
        let fix = context?.fix ?? "lower data.batch_size or the model's sizes"
        return "cannot allocate \(size) for \(tensor)\(context.map { " (\($0.what))" } ?? ""): out of memory; \(fix)"
    }

    /// Bytes as a short figure with its unit, and the exact count.
    static func format(_ bytes: Int) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var value = Double(bytes), unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        if unit == 0 { return "\(bytes) bytes" }
        let rounded = (value * 100).rounded() / 100
        return "\(rounded) \(units[unit]) (\(bytes) bytes)"
    }

    private static let state = Mutex<@Sendable (AllocationFailure) -> Never>(AllocationFailure.exitWithMessage)

    /// The label of the innermost `labeled(_:fix:_:)` on this thread (or task): a scope on one
    /// thread never labels another's allocations.
    @TaskLocal private static var scopedContext: Context?

    /// Reports a failure and ends the process: the message on standard error, status 1.
    @Sendable public static func exitWithMessage(_ failure: AllocationFailure) -> Never {
        fputs("tandem: error: \(failure)\n", stderr)
        fflush(stderr)
        exit(1)
    }

    /// What a failed allocation calls; it must not return.
    public static var handler: @Sendable (AllocationFailure) -> Never {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }

    /// Runs `body` with failed allocations described as made for `what`, with `fix` as the
    /// advice (e.g. while a model's parameters are created), on this thread.
    /// - Parameters:
    ///   - what: e.g. "the parameters of model mlp".
    ///   - fix: e.g. "lower model.hidden_sizes".
    ///   - body: the work that allocates.
    public static func labeled<R>(_ what: String, fix: String, _ body: () throws -> R) rethrows -> R {
        try $scopedContext.withValue(Context(what: what, fix: fix)) { try body() }
    }

    /// The label of the innermost `labeled(_:fix:_:)` running now, if any.
    static var currentContext: Context? { scopedContext }

    /// Hands a failure to the handler, with the current context.
    static func fail(bytes: Int?, shape: [Int]?, dtype: DType?) -> Never {
        handler(AllocationFailure(bytes: bytes, shape: shape, dtype: dtype, context: scopedContext))
    }

    /// The bytes of `count` elements of `dims`, or nil when the product overflows.
    @inline(__always)
    static func byteCount(_ dims: [Int], elementSize: Int) -> Int? {
        var total = elementSize
        for d in dims {
            let (p, overflow) = total.multipliedReportingOverflow(by: d)
            if overflow || d < 0 { return nil }
            total = p
        }
        return total
    }
}
