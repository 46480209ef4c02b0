import TensorCore

/// A differentiable tensor: an NDArray plus what reverse-mode autodiff needs.
///
/// Each result of an op on tensors that require gradients records its creator (the op,
/// its inputs and its vector-Jacobian product); `backward()` walks those records in
/// reverse topological order. Parameters are leaves whose `data` and `grad` may be views
/// into the flat parameter and gradient arenas.
public final class Tensor: CustomStringConvertible {
    /// The values. Reassigned only to rebind a parameter into an arena.
    public var data: NDArray
    /// The accumulated gradient of a leaf (or of a non-leaf that `retainsGrad`).
    public var grad: NDArray?
    public var requiresGrad: Bool
    /// Keep the gradient of a non-leaf after backward (PyTorch's `retain_grad`).
    public var retainsGrad = false
    /// The op that produced this tensor; nil for leaves and for results computed without grad.
    var creator: Node?
    /// Called during backward the moment this leaf's gradient is final (its last consumer's
    /// VJP has run), while backward goes on with the rest of the graph. Data parallelism
    /// uses it to start a gradient bucket's allreduce early.
    public var onGradientReady: ((Tensor) -> Void)?

    /// A leaf tensor.
    /// - Parameters:
    ///   - data: the values.
    ///   - requiresGrad: accumulate a gradient into `grad` on backward.
    public init(_ data: NDArray, requiresGrad: Bool = false) {
        self.data = data
        self.requiresGrad = requiresGrad
    }

    /// A leaf float32 tensor from values in row-major order.
    public convenience init(_ values: [Float], shape: Shape, requiresGrad: Bool = false) {
        self.init(NDArray(values, shape: shape), requiresGrad: requiresGrad)
    }

    /// A scalar constant.
    public convenience init(scalar: Float) { self.init(.scalar(scalar)) }

    public var shape: Shape { data.shape }
    public var rank: Int { data.rank }
    public var count: Int { data.count }
    public var scalars: [Float] { data.scalars }
    public var item: Float { data.item }
    public var isLeaf: Bool { creator == nil }

    public var description: String { "Tensor(\(data.dtype) \(shape)\(requiresGrad ? ", requiresGrad" : ""))" }

    /// Records the result of an op: the values, the inputs, and the vector-Jacobian product
    /// mapping the output's gradient to one gradient (or nil) per input.
    /// - Parameters:
    ///   - op: the op's name.
    ///   - output: the forward result.
    ///   - inputs: the tensors the op read.
    ///   - vjp: called once on backward with the output's gradient as fp32; may skip inputs that
    ///     do not require grad. Gradients for 16-bit inputs are stored back in 16 bits.
    ///   - outputType: the type to store the result in; nil (the default) stores it in 16 bits
    ///     when an input is 16-bit (mixed precision: see `Autocast`), else as computed.
    ///   - roundsGradient: store the output's gradient in the output's type (the default).
    ///     False keeps it as the consumers' VJPs computed it (fp32): for a cast back to fp32,
    ///     which reads it once, at once, rounding it to 16 bits would only lose precision.
    ///   - halfGradient: the VJP reads the output's gradient in the type it is stored in (16
    ///     bits under autocast), widening in registers; false hands it a widened fp32 copy.
    public static func record(
        _ op: String, _ output: NDArray, inputs: [Tensor], outputType: DType? = nil,
        roundsGradient: Bool = true, halfGradient: Bool = false,
        vjp: @escaping (NDArray) -> [NDArray?]
    ) -> Tensor {
        let needs = GradMode.isEnabled && inputs.contains { $0.requiresGrad }
        let t = Tensor(stored(output, inputs: inputs, as: outputType), requiresGrad: needs)
        if needs {
            t.creator = Node(
                op: op, inputs: inputs, roundsGradient: roundsGradient, halfGradient: halfGradient, vjp: vjp)
        }
        return t
    }

    /// The type backward stores this tensor's gradient in: its own type when its creator
    /// rounds gradients (16 bits for a 16-bit activation), else fp32. A VJP that writes an
    /// input's gradient straight in this type saves backward a rounding pass.
    public var gradientType: DType {
        guard let creator, creator.roundsGradient, data.isHalf else { return .float32 }
        return data.dtype
    }
}

extension Tensor {
    /// `output` in the type an op stores it in: `type` if given, else 16 bits when an input is
    /// 16-bit (mixed precision), else as computed. Ops call it to keep what their backward
    /// reads in stored form.
    public static func stored(_ output: NDArray, inputs: [Tensor], as type: DType? = nil) -> NDArray {
        let target = type ?? halfType(of: inputs) ?? output.dtype
        return output.dtype == target || output.dtype == .int32 ? output : output.converted(to: target)
    }

    /// The type a float op's result is stored in: 16 bits when an input is, else fp32. Kernels
    /// that can write it directly are asked for it, so `stored` has nothing to convert.
    public static func storedType(inputs: [Tensor]) -> DType { halfType(of: inputs) ?? .float32 }

    /// The 16-bit type of the first 16-bit input, if any (mixed precision).
    static func halfType(of inputs: [Tensor]) -> DType? { inputs.first(where: { $0.data.isHalf })?.data.dtype }
}

/// One recorded op on the tape.
final class Node {
    let op: String
    let inputs: [Tensor]
    let vjp: (NDArray) -> [NDArray?]
    /// Whether the output's gradient is stored in the output's type (see `Tensor.record`).
    let roundsGradient: Bool
    /// Whether the VJP reads a 16-bit gradient as it is (see `Tensor.record`).
    let halfGradient: Bool

    init(
        op: String, inputs: [Tensor], roundsGradient: Bool = true, halfGradient: Bool = false,
        vjp: @escaping (NDArray) -> [NDArray?]
    ) {
        self.op = op
        self.inputs = inputs
        self.roundsGradient = roundsGradient
        self.halfGradient = halfGradient
        self.vjp = vjp
    }
}
