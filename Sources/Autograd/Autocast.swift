import TensorCore

/// Mixed-precision forward passes (PyTorch's autocast): inside `withAutocast(.float16)` the
/// ops that do the bulk of the arithmetic (matmul, conv, embedding) cast their fp32 inputs
/// and weights to 16 bits (matmul, linear and embedding read fp32 leaves rounded instead:
/// `roundedInput`),
/// and every op whose input is 16-bit stores its result in 16 bits,
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

    /// An input under autocast, and the rounding its kernel reads it with.
    ///
    /// A leaf (a weight, an input batch) stays fp32 and the kernel rounds its values to 16
    /// bits as it reads them (a GEMM as it packs them, `GEMMOperand.rounding`; an embedding as
    /// it gathers rows): the result is bit for bit the one of a 16-bit copy, but no pass makes
    /// the copy and no memory holds it. A leaf's fp32 values live on anyway, so backward
    /// reading them costs nothing. (Every step used to round all of the MLP's 235,000 weights
    /// into copies that outweighed its activations.) Any other fp32 tensor is cast (`input`),
    /// so backward keeps the 16-bit copy, not the fp32 one.
    static func roundedInput(_ t: Tensor) -> (Tensor, rounding: DType?) {
        guard let d = dtype, t.data.dtype == .float32 else { return (t, nil) }
        return t.isLeaf ? (t, d) : (t.cast(to: d), nil)
    }

    /// The type a GEMM's result is stored in: the autocast type inside a region (even when
    /// every operand is an fp32 leaf read rounded), else 16 bits when an input is.
    static func gemmOutputType(inputs: [Tensor]) -> DType { dtype ?? Tensor.storedType(inputs: inputs) }
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
        return Tensor.record(
            "cast", data.converted(to: dtype), inputs: [self], outputType: dtype,
            roundsGradient: source.byteSize <= dtype.byteSize, halfGradient: true
        ) { dy in
            [dy.dtype == source ? dy : dy.converted(to: source)]
        }
    }
}
