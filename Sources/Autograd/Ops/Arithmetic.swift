import TensorCore

// Binary arithmetic with NumPy broadcasting; each gradient is summed back to its input's shape.

func binaryOp(_ op: Binary.Op, _ name: String, _ a: Tensor, _ b: Tensor) -> Tensor {
    // Kept as stored: the kernels widen 16-bit operands in registers, and only when they read them.
    let (ad, bd) = (a.data, b.data)
    return Tensor.record(name, Binary.forward(op, ad, bd), inputs: [a, b], halfGradient: true) { dy in
        let (da, db) = Binary.backward(op, dy, ad, bd)
        return [da, db]
    }
}

/// a + b, broadcasting.
public func + (a: Tensor, b: Tensor) -> Tensor { binaryOp(.add, "add", a, b) }
/// a - b, broadcasting.
public func - (a: Tensor, b: Tensor) -> Tensor { binaryOp(.sub, "sub", a, b) }
/// a · b elementwise, broadcasting.
public func * (a: Tensor, b: Tensor) -> Tensor { binaryOp(.mul, "mul", a, b) }
/// a / b elementwise, broadcasting.
public func / (a: Tensor, b: Tensor) -> Tensor { binaryOp(.div, "div", a, b) }
/// Elementwise maximum, broadcasting; ties share the gradient.
public func maximum(_ a: Tensor, _ b: Tensor) -> Tensor { binaryOp(.maximum, "maximum", a, b) }
/// Elementwise minimum, broadcasting; ties share the gradient.
public func minimum(_ a: Tensor, _ b: Tensor) -> Tensor { binaryOp(.minimum, "minimum", a, b) }

extension Tensor {
    /// scale · self + shift, one fused pass (scalar arithmetic needs no broadcast).
    public func affine(scale: Float, shift: Float = 0) -> Tensor {
        let out = Unary.map(data) { $0 * scale + shift }
        return Tensor.record("affine", out, inputs: [self]) { dy in [Unary.map(dy) { $0 * scale }] }
    }
}

public prefix func - (a: Tensor) -> Tensor { a.affine(scale: -1) }
public func + (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1, shift: s) }
public func + (s: Float, a: Tensor) -> Tensor { a.affine(scale: 1, shift: s) }
public func - (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1, shift: -s) }
public func - (s: Float, a: Tensor) -> Tensor { a.affine(scale: -1, shift: s) }
public func * (a: Tensor, s: Float) -> Tensor { a.affine(scale: s) }
public func * (s: Float, a: Tensor) -> Tensor { a.affine(scale: s) }
public func / (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1 / s) }
