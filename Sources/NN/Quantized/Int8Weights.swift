import Autograd

/// The int8 form of a linear layer or convolution: weights symmetric with one scale per
/// output channel, the input's scale and zero point calibrated, the bias fp32. Read-only, so
/// an exporter can write the same numbers as QuantizeLinear/DequantizeLinear.
public final class Int8Weights {
    /// int8 in the fp32 weight's layout: (out, in), or (OC, C/groups, KH, KW) for a convolution.
    public let values: NDArray
    /// Per output channel: w ≈ weightScales[n]·values[n, ...].
    public let weightScales: [Float]
    /// Per output channel, fp32 (zeros when the layer has none).
    public let bias: [Float]
    /// The input's quantization: x ≈ inputScale·(q - inputZeroPoint), q in 0...127.
    public let inputScale: Float
    public let inputZeroPoint: Int32
    /// Convolution groups (1 for a linear layer).
    public let groups: Int
    /// Per group, its rows packed for `Int8GEMM`, each row's k in the order the activations
    /// arrive: (KH, KW, C/groups) for a convolution (NHWC patches), as stored for a linear layer.
    let packed: [PackedInt8Weights]

    /// Output channels.
    public var outputs: Int { values.shape[0] }
    /// sA·sW[n]: the fp32 value of one unit of the int32 sums.
    var sumScales: [Float] { weightScales.map { $0 * inputScale } }

    /// Quantizes fp32 weights for a calibrated input range.
    /// - Parameters:
    ///   - weight: (out, in) or (OC, C/groups, KH, KW), fp32.
    ///   - bias: (out), or nil.
    ///   - groups: the convolution's groups.
    ///   - inputRange: the calibrated (low, high) of the layer's input.
    public convenience init(weight: NDArray, bias: NDArray?, groups: Int = 1, inputRange: (low: Float, high: Float)) {
        let n = weight.shape[0], k = weight.count / n
        let (q, scales) = Quantize.weightsPerRow(weight.ptr, n: n, k: k)
        let values = NDArray(shape: weight.shape, dtype: .int8, zeroed: false)
        q.withUnsafeBytes { values.storage.raw.copyMemory(from: $0.baseAddress!, byteCount: q.count) }
        let (scale, zero) = Quantize.activationParameters(low: inputRange.low, high: inputRange.high)
        self.init(
            values: values, weightScales: scales, bias: bias?.scalars ?? [Float](repeating: 0, count: n),
            inputScale: scale, inputZeroPoint: zero, groups: groups)
    }

    /// From stored numbers (a quantized file); the caller has checked their shapes.
    /// - Parameters:
    ///   - values: int8 weights in the fp32 layout.
    ///   - weightScales: one per output channel.
    ///   - bias: one per output channel.
    ///   - inputScale: the input's step.
    ///   - inputZeroPoint: the byte standing for 0, in 0...127.
    ///   - groups: the convolution's groups (1 for linear layers).
    public init(
        values: NDArray, weightScales: [Float], bias: [Float], inputScale: Float, inputZeroPoint: Int32, groups: Int
    ) {
        precondition(values.dtype == .int8 && (values.rank == 2 || values.rank == 4), "int8 weights (out, ...)")
        let n = values.shape[0], k = values.count / n
        precondition(weightScales.count == n && bias.count == n && n % groups == 0, "one scale and bias per output")
        (self.values, self.weightScales, self.bias) = (values, weightScales, bias)
        (self.inputScale, self.inputZeroPoint, self.groups) = (inputScale, inputZeroPoint, groups)
        let w = values.storage.raw.assumingMemoryBound(to: Int8.self)
        let rowsPerGroup = n / groups
        var order = [Int](0..<k)
        if values.rank == 4 {  // (kh, kw, c) <- (c, kh, kw)
            let (c, taps) = (values.shape[1], values.shape[2] * values.shape[3])
            order = (0..<k).map { j in (j % c) * taps + j / c }
        }
        packed = (0..<groups).map { g in
            var rows = [Int8](repeating: 0, count: rowsPerGroup * k)
            for r in 0..<rowsPerGroup {
                let source = w + (g * rowsPerGroup + r) * k
                for j in 0..<k { rows[r * k + j] = source[order[j]] }
            }
            return rows.withUnsafeBufferPointer { Int8GEMM.pack($0.baseAddress!, n: rowsPerGroup, k: k) }
        }
    }

    /// The weights as fp32 again, values·scale, in the layer's layout.
    public func dequantizedWeight() -> NDArray {
        let n = outputs, k = values.count / n
        let out = NDArray(shape: values.shape, zeroed: false)
        let w = values.storage.raw.assumingMemoryBound(to: Int8.self)
        for i in 0..<n { for j in 0..<k { out.ptr[i * k + j] = Float(w[i * k + j]) * weightScales[i] } }
        return out
    }

    /// The input quantized and dequantized: what the int8 layer actually multiplies.
    public func fakeQuantizedInput(_ x: NDArray) -> NDArray {
        let bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: max(x.count, 1))
        defer { bytes.deallocate() }
        Quantize.activations(x.ptr, bytes, count: x.count, scale: inputScale, zeroPoint: inputZeroPoint)
        let out = NDArray(shape: x.shape, zeroed: false)
        for i in 0..<x.count { out.ptr[i] = inputScale * Float(Int32(bytes[i]) - inputZeroPoint) }
        return out
    }

    /// int32 sums (rows, n) of one group to fp32 rows (`planes` nil) or NCHW planes.
    func dequantize(
        _ sums: UnsafePointer<Int32>, rows: Int, group: Int, into out: UnsafeMutablePointer<Float>,
        planes: (pixels: Int, imageStride: Int)?
    ) {
        let weights = packed[group], first = group * weights.n
        Int8LayerKernels.dequantize(
            sums, out, rows: rows, n: weights.n, corrections: weights.columnSums.map { $0 &* inputZeroPoint },
            scales: Array(sumScales[first..<first + weights.n]), bias: Array(bias[first..<first + weights.n]),
            planes: planes)
    }
}
