/// A GEMM input: its elements (float32, float16 or bfloat16) and its row stride. 16-bit
/// operands are widened while they are packed (mixed precision reads half the bytes).
public struct GEMMOperand {
    public let raw: UnsafeRawPointer
    public let dtype: DType
    public let ld: Int
    /// For an fp32 operand: the 16-bit type its values are rounded to as they are packed, or
    /// nil to use them as stored. Under autocast a weight is read so: the product is the one
    /// of a 16-bit copy, without a pass that makes the copy or the memory that holds it.
    public let rounding: DType?

    public init(_ pointer: UnsafePointer<Float>, ld: Int) {
        self.init(raw: UnsafeRawPointer(pointer), dtype: .float32, ld: ld)
    }
    public init(raw: UnsafeRawPointer, dtype: DType, ld: Int, rounding: DType? = nil) {
        precondition(dtype != .int32, "GEMM operands are float32, float16 or bfloat16")
        precondition(
            rounding == nil || dtype == .float32 && (rounding == .float16 || rounding == .bfloat16),
            "only an fp32 GEMM operand is rounded, to float16 or bfloat16; "
                + "got \(dtype) rounded to \(rounding!)")
        (self.raw, self.dtype, self.ld, self.rounding) = (raw, dtype, ld, rounding)
    }

    /// Whether the micro-kernel may read the operand in place: fp32, used as stored.
    var isPlainFloat32: Bool { dtype == .float32 && rounding == nil }

    /// The operand offset by `elements`.
    func advanced(by elements: Int) -> GEMMOperand {
        GEMMOperand(raw: raw + elements * dtype.byteSize, dtype: dtype, ld: ld, rounding: rounding)
    }

    /// The operand as a matrix for packing: op(X) with `transposed`.
    func view(transposed: Bool) -> MatrixView {
        MatrixView(
            raw: raw, dtype: dtype, rowStride: transposed ? 1 : ld, colStride: transposed ? ld : 1,
            rounding: rounding)
    }
}
