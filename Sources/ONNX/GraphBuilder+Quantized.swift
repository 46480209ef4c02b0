import Autograd
import TensorCore
import Foundation
import NN

/// The int8 (QDQ) form of a quantized layer: its input through QuantizeLinear, Clip and
/// DequantizeLinear, its weight an int8 initializer through DequantizeLinear, and the product
/// itself fp32, so any runtime computes what Tandem's int8 layer does.
extension GraphBuilder {
    /// The layer's input as the int8 layer sees it: x ≈ s·(q - z), q in 0...127.
    ///
    /// Tandem rounds x·(1/s) + z half to even; QuantizeLinear(x, s, z) rounds x/s and then adds
    /// z, which differs where x/s lies within one fp32 step of a half. So the graph computes
    /// x·(1/s) + z in fp32 as Tandem does, QuantizeLinear (scale 1, zero point 0) rounds it half
    /// to even and saturates to uint8, Clip caps it at 127 (Tandem's 7-bit activations), and
    /// DequantizeLinear with the calibrated scale and zero point gives the value multiplied.
    /// - Parameters:
    ///   - x: the layer's fp32 input.
    ///   - w: the layer's int8 numbers (its input scale and zero point).
    ///   - scope: the layer's dotted name.
    public func quantizedInput(_ x: ONNXValue, _ w: Int8Weights, scope: String) -> ONNXValue {
        let inverse = 1 / w.inputScale
        let shifted = add(
            scale(x, by: inverse, scope: scope), constant([Float(w.inputZeroPoint)], shape: []), scope: scope)
        let bytes = node(
            "QuantizeLinear", [shifted, constant([1], shape: []), byte("const/u8[0]", 0)], scope: scope,
            shape: x.shape, element: .uint8)
        let top = byte("const/u8[\(Quantize.activationMax)]", UInt8(Quantize.activationMax))
        let clipped = node(
            "Clip", [bytes, byte("const/u8[0]", 0), top], scope: scope, shape: x.shape, element: .uint8)
        let zero = byte(scope + ".input_zero_point", UInt8(w.inputZeroPoint))
        return node(
            "DequantizeLinear", [clipped, constant([w.inputScale], shape: [], name: scope + ".input_scale"), zero],
            scope: scope, shape: x.shape)
    }

    /// The int8 weight through DequantizeLinear: per output channel (axis 0) scales, zero point 0.
    /// - Parameters:
    ///   - w: the layer's int8 numbers.
    ///   - weight: the fp32 parameter they replace (its dotted name names the initializers).
    ///   - scope: the layer's dotted name.
    public func dequantizedWeight(_ w: Int8Weights, of weight: Tensor, scope: String) -> ONNXValue {
        let base = name(of: weight) ?? scope + ".weight"
        let n = w.outputs
        let values = initializer(
            base + "_quantized", .int8, Data(bytes: w.values.storage.raw, count: w.values.count),
            w.values.shape.dims)
        let scales = constant(w.weightScales, shape: [n], name: base + "_scale")
        let zeros = initializer(base + "_zero_point", .int8, Data(count: n), [n])
        return node("DequantizeLinear", [values, scales, zeros], [.int("axis", 0)], scope: scope, shape: values.shape)
    }

    /// A one-byte uint8 scalar initializer.
    private func byte(_ name: String, _ value: UInt8) -> ONNXValue {
        initializer(name, .uint8, Data([value]), [])
    }
}
