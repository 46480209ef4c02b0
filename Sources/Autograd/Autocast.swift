import TensorCore

/// Mixed-precision forward passes (PyTorch's autocast): inside `withAutocast(.float16)` the
/// ops that do the bulk of the arithmetic (matmul, conv, embedding) cast their fp32 inputs
/// and weights to 16 bits, and every op whose input is 16-bit stores its result in 16 bits,
/// so the activations kept for backward take half the memory. Kernels widen to fp32 and
/// accumulate in fp32; losses, reductions and softmax return fp32.
public enum Autocast {
    /// 0 outside a region, 1 for float16, 2 for bfloat16.
    private static let region = ThreadLocalWord()

    /// The 16-bit type of the current autocast region, or nil outside one (thread-local).
    public static var dtype: DType? {
        switch region.value {
        case 0: return nil
        case 1: return .float16
        default: return .bfloat16
        }
    }

    /// Runs `body` with autocast to `dtype` (float16 or bfloat16; float32 runs it unchanged).
    public static func run<R>(_ dtype: DType, _ body: () throws -> R) rethrows -> R {
        precondition(dtype != .int32, "autocast needs a float type, got \(dtype)")
        guard dtype != .float32 else { return try body() }
        return try region.with(dtype == .float16 ? 1 : 2, body)
    }

    /// `t` cast to the autocast type when inside a region and `t` is fp32; `t` otherwise.
    static func input(_ t: Tensor) -> Tensor {
        guard let d = dtype, t.data.dtype == .float32 else { return t }
        return t.cast(to: d)
    }
}

/// Runs `body` with autocast to `dtype`; see `Autocast`.
public func withAutocast<R>(_ dtype: DType, _ body: () throws -> R) rethrows -> R { try Autocast.run(dtype, body) }

extension Tensor {
    /// The values as float32 (a widened copy when stored in 16 bits), for kernels.
    public var values: NDArray { data.float32 }

    /// This tensor converted to `dtype`; the gradient flows back converted to this tensor's
    /// type (so a parameter cast to fp16 still receives an fp32 gradient, never rounded to
    /// 16 bits on the way: the weight gradient keeps the precision its GEMM computed).
    public func cast(to dtype: DType) -> Tensor {
        let source = data.dtype
        if dtype == source { return self }
        return Tensor.record("cast", data.converted(to: dtype), inputs: [self], outputType: dtype,
                             roundsGradient: source.byteSize <= dtype.byteSize, halfGradient: true) { dy in
            [dy.dtype == source ? dy : dy.converted(to: source)]
        }
    }
}
