import Autograd
import Models
import NN
import TensorCore

/// A classifier running int8 inference: int8 weights (symmetric, one scale per output
/// channel), 7-bit activations (scale and zero point calibrated per layer), int32 sums from
/// `Int8GEMM`, and each layer's bias and ReLU fused into the requantization to the next
/// layer's activations. Images flow in NHWC bytes; only the logits are fp32.
public final class QuantizedModel: Classifier {
    public var training = false

    /// One int8 layer, ready to run.
    struct Layer {
        let name: String
        let weights: PackedInt8Weights
        let inputScale: Float, inputZeroPoint: Int32
        let weightScales: [Float], bias: [Float]
        let relu: Bool
        /// To the next layer's activations; nil for the last layer, whose sums become fp32 logits.
        var requantization: Requantization?

        /// sA·sW[n]: the fp32 value of one unit of the sums.
        var sumScales: [Float] { weightScales.map { $0 * inputScale } }
    }

    enum Step {
        /// The layer's index in `layers`.
        case conv(Int, Conv2DGeometry)
        case linear(Int)
        case maxPool(Conv2DGeometry)
        case flatten
    }

    let steps: [Step]
    let layers: [Layer]
    let inputShape: Shape

    /// The file's tensors for `plan`'s layers, quantized with the calibrated input ranges:
    /// `NAME.weight` int8 in PyTorch's layout, `NAME.weight_scale` and `NAME.bias` fp32 (out),
    /// `NAME.input_scale` fp32 and `NAME.input_zero_point` int32 (1).
    public static func quantize(_ plan: InferencePlan, ranges: [String: (low: Float, high: Float)]) -> [(
        String, NDArray
    )] {
        var out: [(String, NDArray)] = []
        for step in plan.steps {
            let layer: (name: String, weight: Tensor, bias: Tensor?)
            switch step {
            case let .conv(name, conv, _): layer = (name, conv.weight, conv.bias)
            case let .linear(name, linear, _): layer = (name, linear.weight, linear.bias)
            default: continue
            }
            let n = layer.weight.shape[0], k = layer.weight.count / n
            let (values, scales) = Quantize.weightsPerRow(layer.weight.data.ptr, n: n, k: k)
            let weight = NDArray(shape: layer.weight.shape, dtype: .int8, zeroed: false)
            values.withUnsafeBytes { weight.storage.raw.copyMemory(from: $0.baseAddress!, byteCount: values.count) }
            let range = ranges[layer.name] ?? (0, 0)
            let (scale, zero) = Quantize.activationParameters(low: range.low, high: range.high)
            out += [
                (layer.name + ".weight", weight), (layer.name + ".weight_scale", NDArray(scales, shape: [n])),
                (layer.name + ".bias", layer.bias?.data.copy() ?? NDArray(shape: [n])),
                (layer.name + ".input_scale", NDArray([scale], shape: [1])),
                (layer.name + ".input_zero_point", NDArray(indices: [zero], shape: [1])),
            ]
        }
        return out
    }

    /// Builds the int8 program from a quantized file's tensors.
    /// - Parameters:
    ///   - plan: the fp32 model's steps (their layer shapes and windows).
    ///   - tensors: as `quantize` wrote them.
    ///   - inputShape: one sample's shape, (C, H, W) or (F).
    public init(plan: InferencePlan, tensors: [String: NDArray], inputShape: Shape) throws {
        self.inputShape = inputShape
        func tensor(_ name: String, _ dtype: DType, _ shape: [Int]) throws -> NDArray {
            guard let t = tensors[name], t.dtype == dtype, t.shape.dims == shape else {
                throw ConfigError(
                    "the int8 model has no \(dtype) tensor \(name) of shape \(shape) "
                        + "(found \(tensors[name].map { "\($0.dtype) \($0.shape.dims)" } ?? "none")); quantize this run again with `tandem quantize`"
                )
            }
            return t
        }
        // The activation's layout as it flows: NHWC images (C, H, W), or features in the order
        // PyTorch's flatten of NCHW gives (true) or of NHWC (false, the weights are permuted).
        var image: (c: Int, h: Int, w: Int)? =
            inputShape.rank == 3 ? (inputShape[0], inputShape[1], inputShape[2]) : nil
        var flattenedFrom: (c: Int, h: Int, w: Int)?
        var steps: [Step] = [], layers: [Layer] = []
        for step in plan.steps {
            let name: String, shape: [Int], relu: Bool
            switch step {
            case let .conv(n, conv, r): (name, shape, relu) = (n, conv.weight.shape.dims, r)
            case let .linear(n, linear, r): (name, shape, relu) = (n, linear.weight.shape.dims, r)
            case let .maxPool(pool):
                let g = Conv2DGeometry(
                    kernel: pool.kernel, stride: pool.stride, padding: pool.padding, dilation: pool.dilation)
                let (oh, ow) = g.outputSize(h: image!.h, w: image!.w)
                image = (image!.c, oh, ow)
                steps.append(.maxPool(g))
                continue
            case .flatten:
                flattenedFrom = steps.isEmpty ? nil : image  // the raw input keeps PyTorch's order
                image = nil
                steps.append(.flatten)
                continue
            }
            let n = shape[0], k = shape.dropFirst().reduce(1, *)
            let stored = try tensor(name + ".weight", .int8, shape)
            let w = stored.storage.raw.assumingMemoryBound(to: Int8.self)
            // Reorder each row's k to the order the activations arrive in.
            var order = [Int](0..<k)
            if case let .conv(_, conv, _) = step {
                guard conv.groups == 1 else {
                    throw ConfigError("int8 convolution \(name) has groups \(conv.groups); only groups 1 is supported")
                }
                let (c, kh, kw) = (shape[1], shape[2], shape[3])
                order = (0..<k).map { j in
                    let (p, ch) = (j / c, j % c); return ch * kh * kw + p
                }  // (kh, kw, c) <- (c, kh, kw)
            } else if let f = flattenedFrom {
                order = (0..<k).map { j in
                    let (p, ch) = (j / f.c, j % f.c); return ch * f.h * f.w + p
                }  // (h, w, c) <- (c, h, w)
            }
            var reordered = [Int8](repeating: 0, count: n * k)
            for row in 0..<n { for j in 0..<k { reordered[row * k + j] = w[row * k + order[j]] } }
            let layer = Layer(
                name: name, weights: Int8GEMM.pack(reordered, n: n, k: k),
                inputScale: try tensor(name + ".input_scale", .float32, [1]).ptr[0],
                inputZeroPoint: try tensor(name + ".input_zero_point", .int32, [1]).int32Pointer[0],
                weightScales: try tensor(name + ".weight_scale", .float32, [n]).scalars,
                bias: try tensor(name + ".bias", .float32, [n]).scalars, relu: relu)
            if case let .conv(_, conv, _) = step {
                let g = Conv2DGeometry(
                    kernel: (shape[2], shape[3]), stride: conv.stride, padding: conv.padding, dilation: conv.dilation)
                let (oh, ow) = g.outputSize(h: image!.h, w: image!.w)
                image = (n, oh, ow)
                steps.append(.conv(layers.count, g))
            } else {
                flattenedFrom = nil
                steps.append(.linear(layers.count))
            }
            layers.append(layer)
        }
        for (i, next) in layers.enumerated().dropFirst() {
            let layer = layers[i - 1]
            layers[i - 1].requantization = Requantization(
                n: layer.weights.n, inputZeroPoint: layer.inputZeroPoint, columnSums: layer.weights.columnSums,
                multiplier: layer.sumScales.map { $0 / next.inputScale },
                offset: layer.bias.map { $0 / next.inputScale + Float(next.inputZeroPoint) },
                outputZeroPoint: next.inputZeroPoint, relu: layer.relu)
        }
        (self.steps, self.layers) = (steps, layers)
    }

    /// Buffers reused from batch to batch (a fresh 5 MB of patches per batch costs more in page
    /// faults than the int8 GEMM that reads them): slots 0 and 1 take turns holding the
    /// activations, 2 the patches or padded rows, 3 the int32 sums.
    private var workspace: [Storage] = []

    private func buffer(_ slot: Int, bytes: Int) -> UnsafeMutableRawPointer {
        while workspace.count <= slot { workspace.append(Storage(byteCount: 64)) }
        if workspace[slot].byteCount < bytes { workspace[slot] = Storage(byteCount: bytes, zeroed: false) }
        return workspace[slot].raw
    }

    /// The bytes flowing between steps: N·H·W rows of C bytes (NHWC images), or N rows of C
    /// features; `slot` is the workspace buffer holding them.
    struct Activations {
        var slot: Int
        var n: Int, h: Int, w: Int, c: Int
        var rows: Int { n * h * w }
    }

    /// Logits (N, classes) of a batch of fp32 inputs.
    public func logits(_ inputs: NDArray) -> Tensor {
        let n = inputs.shape[0]
        let first = layers[0], input = buffer(0, bytes: inputs.count).assumingMemoryBound(to: UInt8.self)
        var x: Activations
        if inputShape.rank == 3, case .conv = steps[0] {
            Quantize.imagesNHWC(
                inputs.ptr, input, n: n, c: inputShape[0], hw: inputShape[1] * inputShape[2],
                scale: first.inputScale, zeroPoint: first.inputZeroPoint)
            x = Activations(slot: 0, n: n, h: inputShape[1], w: inputShape[2], c: inputShape[0])
        } else {
            Quantize.activations(
                inputs.ptr, input, count: inputs.count, scale: first.inputScale, zeroPoint: first.inputZeroPoint)
            x = Activations(slot: 0, n: n, h: 1, w: 1, c: inputs.count / n)
        }
        var result = NDArray(shape: [n, 0])
        for step in steps {
            let source = buffer(x.slot, bytes: 0).assumingMemoryBound(to: UInt8.self)
            switch step {
            case .flatten:
                x = Activations(slot: x.slot, n: n, h: 1, w: 1, c: x.h * x.w * x.c)
            case let .maxPool(g):
                let (oh, ow) = g.outputSize(h: x.h, w: x.w)
                let out = buffer(1 - x.slot, bytes: n * oh * ow * x.c).assumingMemoryBound(to: UInt8.self)
                Quantize.maxPoolNHWC(source, out, n: n, c: x.c, h: x.h, w: x.w, geometry: g)
                x = Activations(slot: 1 - x.slot, n: n, h: oh, w: ow, c: x.c)
            case let .conv(index, g):
                let layer = layers[index], (oh, ow) = g.outputSize(h: x.h, w: x.w)
                let out = buffer(1 - x.slot, bytes: n * oh * ow * layer.weights.n).assumingMemoryBound(to: UInt8.self)
                Int8Convolution.forward(
                    source, n: n, c: x.c, h: x.h, w: x.w, geometry: g, weights: layer.weights,
                    inputZeroPoint: layer.inputZeroPoint, requantization: layer.requantization!, out: out)
                x = Activations(slot: 1 - x.slot, n: n, h: oh, w: ow, c: layer.weights.n)
            case let .linear(index):
                let layer = layers[index], width = layer.weights.paddedK
                var rows = x
                if x.c < width {  // rows padded to whole groups of 4 bytes
                    let padded = buffer(2, bytes: x.rows * width).assumingMemoryBound(to: UInt8.self)
                    for r in 0..<x.rows {
                        (padded + r * width).update(from: source + r * x.c, count: x.c)
                        (padded + r * width + x.c).update(repeating: 0, count: width - x.c)
                    }
                    rows = Activations(slot: 2, n: n, h: 1, w: 1, c: width)
                }
                let a = buffer(rows.slot, bytes: 0).assumingMemoryBound(to: UInt8.self)
                let sums = buffer(3, bytes: x.rows * layer.weights.n * 4).assumingMemoryBound(to: Int32.self)
                Int8GEMM.gemm(m: x.rows, a: a, lda: rows.c, w: layer.weights, c: sums)
                if let r = layer.requantization {
                    let out = buffer(1 - x.slot, bytes: x.rows * r.n).assumingMemoryBound(to: UInt8.self)
                    Quantize.requantize(sums, out, m: x.rows, with: r)
                    x = Activations(slot: 1 - x.slot, n: n, h: 1, w: 1, c: r.n)
                } else {
                    result = NDArray(shape: [x.rows, layer.weights.n], zeroed: false)
                    Quantize.dequantize(
                        sums, result.ptr, m: x.rows, n: layer.weights.n, inputZeroPoint: layer.inputZeroPoint,
                        columnSums: layer.weights.columnSums, multiplier: layer.sumScales, bias: layer.bias)
                }
            }
        }
        return Tensor(result)
    }

    /// Cross-entropy of the int8 logits (what evaluation reports as the loss).
    public func loss(inputs: NDArray, targets: NDArray, labelSmoothing: Float) -> Tensor {
        Loss.crossEntropy(logits(inputs), targets, labelSmoothing: labelSmoothing)
    }
}
