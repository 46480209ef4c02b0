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
    }

    enum Step {
        case conv(Layer, Conv2DGeometry)
        case linear(Layer)
        case maxPool(Conv2DGeometry)
        case flatten
    }

    let steps: [Step]
    let inputShape: Shape

    /// The file's tensors for `plan`'s layers, quantized with the calibrated input ranges:
    /// `NAME.weight` int8 in PyTorch's layout, `NAME.weight_scale` and `NAME.bias` fp32 (out),
    /// `NAME.input_scale` fp32 and `NAME.input_zero_point` int32 (1).
    public static func quantize(_ plan: InferencePlan, ranges: [String: (low: Float, high: Float)]) -> [(String, NDArray)] {
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
            out += [(layer.name + ".weight", weight), (layer.name + ".weight_scale", NDArray(scales, shape: [n])),
                    (layer.name + ".bias", layer.bias?.data.copy() ?? NDArray(shape: [n])),
                    (layer.name + ".input_scale", NDArray([scale], shape: [1])),
                    (layer.name + ".input_zero_point", NDArray(indices: [zero], shape: [1]))]
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
                throw ConfigError("the int8 model has no \(dtype) tensor \(name) of shape \(shape) "
                    + "(found \(tensors[name].map { "\($0.dtype) \($0.shape.dims)" } ?? "none")); quantize this run again with `tandem quantize`")
            }
            return t
        }
        // The activation's layout as it flows: NHWC images (C, H, W), or features in the order
        // PyTorch's flatten of NCHW gives (true) or of NHWC (false, the weights are permuted).
        var image: (c: Int, h: Int, w: Int)? = inputShape.rank == 3 ? (inputShape[0], inputShape[1], inputShape[2]) : nil
        var flattenedFrom: (c: Int, h: Int, w: Int)?
        var steps: [Step] = []
        for step in plan.steps {
            let name: String, shape: [Int], relu: Bool
            switch step {
            case let .conv(n, conv, r): (name, shape, relu) = (n, conv.weight.shape.dims, r)
            case let .linear(n, linear, r): (name, shape, relu) = (n, linear.weight.shape.dims, r)
            case let .maxPool(pool):
                let g = Conv2DGeometry(kernel: pool.kernel, stride: pool.stride, padding: pool.padding, dilation: pool.dilation)
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
                guard conv.groups == 1 else { throw ConfigError("int8 convolution \(name) has groups \(conv.groups); only groups 1 is supported") }
                let (c, kh, kw) = (shape[1], shape[2], shape[3])
                order = (0..<k).map { j in let (p, ch) = (j / c, j % c); return ch * kh * kw + p }  // (kh, kw, c) <- (c, kh, kw)
            } else if let f = flattenedFrom {
                order = (0..<k).map { j in let (p, ch) = (j / f.c, j % f.c); return ch * f.h * f.w + p }  // (h, w, c) <- (c, h, w)
            }
            var reordered = [Int8](repeating: 0, count: n * k)
            for row in 0..<n { for j in 0..<k { reordered[row * k + j] = w[row * k + order[j]] } }
            let layer = Layer(name: name, weights: Int8GEMM.pack(reordered, n: n, k: k),
                              inputScale: try tensor(name + ".input_scale", .float32, [1]).ptr[0],
                              inputZeroPoint: try tensor(name + ".input_zero_point", .int32, [1]).int32Pointer[0],
                              weightScales: try tensor(name + ".weight_scale", .float32, [n]).scalars,
                              bias: try tensor(name + ".bias", .float32, [n]).scalars, relu: relu)
            if case let .conv(_, conv, _) = step {
                let g = Conv2DGeometry(kernel: (shape[2], shape[3]), stride: conv.stride, padding: conv.padding, dilation: conv.dilation)
                let (oh, ow) = g.outputSize(h: image!.h, w: image!.w)
                image = (n, oh, ow)
                steps.append(.conv(layer, g))
            } else {
                flattenedFrom = nil
                steps.append(.linear(layer))
            }
        }
        self.steps = steps
    }

    /// The bytes flowing between steps: (rows, columns) with columns = C for NHWC images
    /// (rows = N·H·W) and = features for flat activations.
    struct Activations {
        var bytes: [UInt8]
        var n: Int, h: Int, w: Int, c: Int
        var columns: Int { c }
        var rows: Int { n * h * w }
    }

    /// Logits (N, classes) of a batch of fp32 inputs.
    public func logits(_ inputs: NDArray) -> Tensor {
        let n = inputs.shape[0]
        let layers = steps.compactMap { step -> Layer? in
            switch step { case let .conv(l, _), let .linear(l): return l; default: return nil }
        }
        let first = layers[0]
        var x: Activations
        if inputShape.rank == 3, case .conv = steps[0] {
            x = Activations(bytes: [UInt8](repeating: 0, count: inputs.count), n: n, h: inputShape[1], w: inputShape[2], c: inputShape[0])
            x.bytes.withUnsafeMutableBufferPointer {
                Quantize.imagesNHWC(inputs.ptr, $0.baseAddress!, n: n, c: inputShape[0], hw: inputShape[1] * inputShape[2],
                                    scale: first.inputScale, zeroPoint: first.inputZeroPoint)
            }
        } else {
            x = Activations(bytes: [UInt8](repeating: 0, count: inputs.count), n: n, h: 1, w: 1, c: inputs.count / n)
            x.bytes.withUnsafeMutableBufferPointer {
                Quantize.activations(inputs.ptr, $0.baseAddress!, count: inputs.count, scale: first.inputScale, zeroPoint: first.inputZeroPoint)
            }
        }
        var next = 1
        var result = NDArray(shape: [n, 0])
        for step in steps {
            switch step {
            case .flatten:
                x = Activations(bytes: x.bytes, n: n, h: 1, w: 1, c: x.h * x.w * x.c)
            case let .maxPool(g):
                let (oh, ow) = g.outputSize(h: x.h, w: x.w)
                var out = [UInt8](repeating: 0, count: n * oh * ow * x.c)
                x.bytes.withUnsafeBufferPointer { src in out.withUnsafeMutableBufferPointer {
                    Quantize.maxPoolNHWC(src.baseAddress!, $0.baseAddress!, n: n, c: x.c, h: x.h, w: x.w, geometry: g)
                } }
                x = Activations(bytes: out, n: n, h: oh, w: ow, c: x.c)
            case let .conv(layer, g):
                let (oh, ow) = g.outputSize(h: x.h, w: x.w)
                let lda = layer.weights.paddedK, rows = n * oh * ow
                var patches = [UInt8](repeating: 0, count: rows * lda)
                x.bytes.withUnsafeBufferPointer { src in patches.withUnsafeMutableBufferPointer {
                    Quantize.im2colNHWC(src.baseAddress!, $0.baseAddress!, n: n, c: x.c, h: x.h, w: x.w, geometry: g, lda: lda,
                                        zeroPoint: layer.inputZeroPoint)
                } }
                x = Activations(bytes: patches, n: n, h: oh, w: ow, c: lda)
                x = apply(layer, to: x, next: next < layers.count ? layers[next] : nil, result: &result)
                next += 1
            case let .linear(layer):
                if x.c < layer.weights.paddedK {  // rows padded to whole groups of 4 bytes
                    var padded = [UInt8](repeating: 0, count: x.rows * layer.weights.paddedK)
                    for r in 0..<x.rows { for j in 0..<x.c { padded[r * layer.weights.paddedK + j] = x.bytes[r * x.c + j] } }
                    x = Activations(bytes: padded, n: n, h: 1, w: 1, c: layer.weights.paddedK)
                }
                x = apply(layer, to: x, next: next < layers.count ? layers[next] : nil, result: &result)
                next += 1
            }
        }
        return Tensor(result)
    }

    /// One int8 layer on `x` (rows of `x.c` bytes): the int32 product, then the next layer's
    /// bytes, or the fp32 logits into `result` when it is the last.
    private func apply(_ layer: Layer, to x: Activations, next: Layer?, result: inout NDArray) -> Activations {
        let rows = x.rows, cols = layer.weights.n
        var sums = [Int32](repeating: 0, count: rows * cols)
        x.bytes.withUnsafeBufferPointer { a in sums.withUnsafeMutableBufferPointer {
            Int8GEMM.gemm(m: rows, a: a.baseAddress!, lda: x.c, w: layer.weights, c: $0.baseAddress!)
        } }
        let scales = layer.weightScales.map { $0 * layer.inputScale }
        guard let next else {
            result = NDArray(shape: [rows, cols], zeroed: false)
            Quantize.dequantize(sums, result.ptr, m: rows, n: cols, inputZeroPoint: layer.inputZeroPoint,
                                columnSums: layer.weights.columnSums, multiplier: scales, bias: layer.bias)
            return x
        }
        var out = [UInt8](repeating: 0, count: rows * cols)
        out.withUnsafeMutableBufferPointer {
            Quantize.requantize(sums, $0.baseAddress!, m: rows, n: cols, inputZeroPoint: layer.inputZeroPoint,
                                columnSums: layer.weights.columnSums, multiplier: scales.map { $0 / next.inputScale },
                                offset: layer.bias.map { $0 / next.inputScale + Float(next.inputZeroPoint) },
                                outputZeroPoint: next.inputZeroPoint, relu: layer.relu)
        }
        return Activations(bytes: out, n: x.n, h: x.h, w: x.w, c: cols)
    }

    /// Cross-entropy of the int8 logits (what evaluation reports as the loss).
    public func loss(inputs: NDArray, targets: NDArray, labelSmoothing: Float) -> Tensor {
        Loss.crossEntropy(logits(inputs), targets, labelSmoothing: labelSmoothing)
    }
}
