/// Where a GEMM writes C: fp32, or rounded once to float16/bfloat16 as each tile leaves the
/// registers (mixed precision then never writes, reads and re-rounds an fp32 copy of C).
public struct GEMMOutput {
    public let raw: UnsafeMutableRawPointer
    public let dtype: DType
    public let ld: Int
    /// n fp32 values added once to every row of C (a linear layer's bias), as each tile of the
    /// first depth block leaves the registers: filling C with the bias first and accumulating
    /// onto it cost a pass that wrote C and made the GEMM read it (a 16-bit C gets it before
    /// it is rounded).
    public let bias: UnsafePointer<Float>?

    public init(_ c: UnsafeMutablePointer<Float>, ld: Int, bias: UnsafePointer<Float>? = nil) {
        (raw, dtype, self.ld, self.bias) = (UnsafeMutableRawPointer(c), .float32, ld, bias)
    }
    public init(half: UnsafeMutablePointer<UInt16>, dtype: DType, ld: Int, bias: UnsafePointer<Float>? = nil) {
        precondition(
            dtype == .float16 || dtype == .bfloat16,
            "a 16-bit GEMM output is float16 or bfloat16, got \(dtype)")
        (raw, self.dtype, self.ld, self.bias) = (UnsafeMutableRawPointer(half), dtype, ld, bias)
    }

    /// The output offset by `elements`.
    func advanced(by elements: Int) -> GEMMOutput {
        dtype == .float32
            ? GEMMOutput(raw.assumingMemoryBound(to: Float.self) + elements, ld: ld, bias: bias)
            : GEMMOutput(
                half: raw.assumingMemoryBound(to: UInt16.self) + elements, dtype: dtype, ld: ld,
                bias: bias)
    }
}
