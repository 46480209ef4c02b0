/// The element types a tensor can be stored in.
///
/// Compute is always Float32; Float16 and BFloat16 exist to halve storage and wire bytes,
/// Int32 carries indices (class labels, token ids), Int8/UInt8 hold quantized weights
/// and activations for int8 inference, and Int64 holds counters PyTorch stores as int64
/// (batch norm's `num_batches_tracked`).
public enum DType: String, Codable, Sendable, CaseIterable {
    case float32, float16, bfloat16, int32, int8, uint8, int64

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .int64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16: return 2
        case .int8, .uint8: return 1
        }
    }
}
