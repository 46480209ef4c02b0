@testable import Autograd
import NN
import Testing

/// Autocast: 16-bit activations, fp32 master gradients, and why the loss is scaled.
@Suite("Mixed precision")
struct MixedPrecisionTests {
    static func batch() -> (NDArray, NDArray) {
        var rng = PhiloxRNG(seed: 3)
        let x = NDArray(shape: [16, 1, 12, 12], zeroed: false)
        rng.fillNormal(x.ptr, x.count)
        return (x, NDArray(indices: (0..<16).map { Int32($0 % 4) }, shape: [16]))
    }

    static func model() -> Sequential {
        Init.seed(5)
        return Sequential(
            Conv2d(1, 4, kernel: 3, padding: 1), ActivationLayer(.relu), MaxPool2d(kernel: 2), Flatten(),
            Linear(144, 16), ActivationLayer(.tanh), Linear(16, 4))
    }

    /// Gradients of one step, fp32 or under autocast.
    static func gradients(_ dtype: DType) -> (loss: Float, grads: [Float], logitsType: DType) {
        let net = model(), arena = net.flattenParameters()
        let (x, y) = batch()
        var logitsType = DType.float32
        let loss = withAutocast(dtype) { () -> Tensor in
            let logits = net(Tensor(x))
            logitsType = logits.data.dtype
            return Loss.crossEntropy(logits, y)
        }
        loss.backward()
        return (loss.item, arena.grads.scalars, logitsType)
    }

    @Test(arguments: [DType.float16, .bfloat16])
    func activationsAreHalfGradientsStayFloat(dtype: DType) {
        let reference = Self.gradients(.float32), half = Self.gradients(dtype)
        #expect(reference.logitsType == .float32 && half.logitsType == dtype)
        // The loss is fp32 and close; master gradients are fp32 and agree to the 16-bit precision.
        #expect(Swift.abs(half.loss - reference.loss) < (dtype == .float16 ? 2e-3 : 2e-2))
        let norm = reference.grads.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let diff = zip(half.grads, reference.grads).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
        #expect(diff / norm < (dtype == .float16 ? 5e-3 : 4e-2), "relative gradient error \(diff / norm)")
        #expect(diff > 0, "a 16-bit forward that changes nothing was not 16-bit")
    }

    /// A loss this small gives activation gradients below fp16's smallest subnormal (6e-8):
    /// unscaled they flush to zero; scaled by 2^16 they survive and unscale to the fp32 value.
    @Test func lossScalingRescuesUnderflowingGradients() {
        func weightGradient(_ dtype: DType, scale: Float) -> [Float] {
            Init.seed(9)
            let layer = Linear(8, 8)
            _ = layer.flattenParameters()
            var rng = PhiloxRNG(seed: 1)
            let x = NDArray(shape: [32, 8], zeroed: false)
            rng.fillNormal(x.ptr, x.count)
            let loss = withAutocast(dtype) { (layer(Tensor(x)).tanh().mean() * 1e-6) }
            loss.backward(NDArray(repeating: scale, shape: loss.shape))
            return layer.weight.grad!.scalars.map { $0 / scale }
        }
        let reference = weightGradient(.float32, scale: 1)
        let unscaled = weightGradient(.float16, scale: 1), scaled = weightGradient(.float16, scale: 65536)
        #expect(reference.allSatisfy { $0 != 0 })
        #expect(unscaled.allSatisfy { $0 == 0 }, "fp16 gradients without scaling: \(unscaled.prefix(4))")
        let worst = zip(scaled, reference).map { Swift.abs($0 - $1) / Swift.abs($1) }.max()!
        #expect(worst < 0.02, "scaled fp16 gradients differ from fp32 by \(worst)")
    }

    /// The cast op: rounding on the way in, the gradient converted back on the way out.
    @Test func castRoundsAndPassesGradientsBack() {
        let w = Tensor([1 + 1.0 / 4096, 3], shape: [2], requiresGrad: true)
        let h = w.cast(to: .float16)
        #expect(h.data.dtype == .float16 && h.values.scalars == [1, 3])
        (h * Tensor([2, 5], shape: [2])).sum().backward()
        #expect(w.grad!.dtype == .float32 && w.grad!.scalars == [2, 5])
    }

    /// The gradient of a parameter's 16-bit copy goes back to the fp32 parameter as its GEMM
    /// computed it: not rounded to 16 bits on the way (which cost precision and two passes).
    @Test func weightGradientsAreNotRoundedTo16Bits() {
        var rng = PhiloxRNG(seed: 4)
        let x = NDArray(shape: [9, 5], zeroed: false)
        rng.fillNormal(x.ptr, x.count)
        let w = Tensor(NDArray(repeating: 0.5, shape: [3, 5]), requiresGrad: true)
        withAutocast(.float16) { matmul(Tensor(x), w, transB: true).sum() }.backward()
        // dW[j, p] = sum over rows of x16[i, p], summed in fp32.
        let x16 = x.converted(to: .float16).float32.scalars
        let sums = (0..<5).map { p in (0..<9).reduce(Float(0)) { $0 + x16[$1 * 5 + p] } }
        let grad = w.grad!.scalars
        let worst = (0..<15).map { Swift.abs(grad[$0] - sums[$0 % 5]) / Swift.abs(sums[$0 % 5]) }.max()!
        let rounding = (0..<5).map {
            Swift.abs(HalfCast.float(float16: HalfCast.float16Bits(sums[$0])) - sums[$0]) / Swift.abs(sums[$0])
        }.max()!
        #expect(worst < 1e-6, "weight gradient differs from the fp32 sums by \(worst)")
        #expect(rounding > 1e-5, "the sums happen to be fp16 values: the test would not see rounding")
    }

    /// Under autocast, matmul and linear read fp32 leaves (weights, the input batch) rounded
    /// by the GEMM: outputs and every gradient are bit for bit those of explicit 16-bit
    /// copies, and the graph holds no copy of the weight.
    @Test(arguments: [DType.float16, .bfloat16])
    func leavesAreReadRoundedWithoutCopies(dtype: DType) {
        var rng = PhiloxRNG(seed: 6)
        func leaf(_ shape: Shape) -> Tensor {
            let a = NDArray(shape: shape, zeroed: false)
            rng.fillNormal(a.ptr, a.count)
            return Tensor(a, requiresGrad: true)
        }
        let x = leaf([7, 300]), w = leaf([33, 300]), b = leaf([33]), v = leaf([33, 20])
        func run(copies: Bool) -> (out: [UInt16], grads: [[Float]]) {
            for t in [x, w, b, v] { t.grad = nil }
            let out = withAutocast(dtype) { () -> Tensor in
                // An explicit cast makes a non-leaf 16-bit copy, which the ops read as stored.
                let (xs, ws, vs) = copies ? (x.cast(to: dtype), w.cast(to: dtype), v.cast(to: dtype)) : (x, w, v)
                return matmul(linear(xs, weight: ws, bias: b), vs)
            }
            #expect(out.data.dtype == dtype)
            (out.cast(to: .float32) * out.cast(to: .float32)).sum().backward()
            return (
                Array(UnsafeBufferPointer(start: out.data.halfBits, count: out.count)),
                [x, w, b, v].map { $0.grad!.scalars }
            )
        }
        let copied = run(copies: true), rounded = run(copies: false)
        #expect(zip(rounded.out, copied.out).filter { $0 != $1 }.isEmpty, "outputs differ")
        for (i, name) in ["x", "weight", "bias", "v"].enumerated() {
            let differ = zip(rounded.grads[i], copied.grads[i]).filter { $0 != $1 }.count
            #expect(differ == 0, "\(differ) of \(name)'s gradients differ")
        }

        // The recorded product reads the weight itself: no cast node holds a 16-bit copy.
        // (Memory is counted per process and the suites run in parallel, so the graph is
        // checked here; `tandem-bench step` measures the bytes.)
        let y = withAutocast(dtype) { linear(x, weight: w, bias: nil) }
        #expect(
            y.data.dtype == dtype && y.creator?.inputs.map(ObjectIdentifier.init) == [x, w].map(ObjectIdentifier.init))

        // An embedding table likewise: its gathered rows are those of a 16-bit copy, and the
        // table's gradient is the one that flows through the copy's cast.
        let table = leaf([13, 6]), ids = NDArray(indices: [4, 0, 12, 4], shape: [2, 2])
        func gather(copy: Bool) -> (rows: [UInt16], grad: [Float]) {
            table.grad = nil
            let e = withAutocast(dtype) { embedding(copy ? table.cast(to: dtype) : table, ids: ids) }
            #expect(e.data.dtype == dtype)
            (e.cast(to: .float32) * e.cast(to: .float32)).sum().backward()
            return (Array(UnsafeBufferPointer(start: e.data.halfBits, count: e.count)), table.grad!.scalars)
        }
        let viaCopy = gather(copy: true), viaRounding = gather(copy: false)
        #expect(zip(viaRounding.rows, viaCopy.rows).filter { $0 != $1 }.isEmpty, "embedding rows differ")
        #expect(zip(viaRounding.grad, viaCopy.grad).filter { $0 != $1 }.isEmpty, "embedding table gradients differ")
        let e = withAutocast(dtype) { embedding(table, ids: ids) }
        #expect(e.creator?.inputs.map(ObjectIdentifier.init) == [ObjectIdentifier(table)], "the table was cast")

        // And a convolution's weights (with groups, and its input gradient), in fp32 leaves.
        let image = leaf([3, 4, 9, 8]), kernel = leaf([6, 2, 3, 3]), kernelBias = leaf([6])
        func convolve(copy: Bool) -> (out: [UInt16], grads: [[Float]]) {
            for t in [image, kernel, kernelBias] { t.grad = nil }
            let y = withAutocast(dtype) {
                conv2d(
                    image, weight: copy ? kernel.cast(to: dtype) : kernel, bias: kernelBias, padding: (1, 0), groups: 2)
            }
            #expect(y.data.dtype == dtype)
            (y.cast(to: .float32) * y.cast(to: .float32)).sum().backward()
            return (
                Array(UnsafeBufferPointer(start: y.data.halfBits, count: y.count)),
                [image, kernel, kernelBias].map { $0.grad!.scalars }
            )
        }
        let convCopied = convolve(copy: true), convRounded = convolve(copy: false)
        #expect(zip(convRounded.out, convCopied.out).filter { $0 != $1 }.isEmpty, "conv outputs differ")
        for (i, name) in ["input", "weight", "bias"].enumerated() {
            let differ = zip(convRounded.grads[i], convCopied.grads[i]).filter { $0 != $1 }.count
            #expect(differ == 0, "\(differ) of the conv's \(name) gradients differ")
        }
        // The transposed convolution (a DCGAN generator's layer) with the same tensors.
        let upKernel = leaf([4, 3, 3, 3])
        func upsample(copy: Bool) -> (out: [UInt16], grads: [[Float]]) {
            for t in [image, upKernel] { t.grad = nil }
            let y = withAutocast(dtype) {
                convTranspose2d(
                    image, weight: copy ? upKernel.cast(to: dtype) : upKernel, stride: (2, 2), padding: (1, 1),
                    groups: 2)
            }
            #expect(y.data.dtype == dtype)
            (y.cast(to: .float32) * y.cast(to: .float32)).sum().backward()
            return (
                Array(UnsafeBufferPointer(start: y.data.halfBits, count: y.count)),
                [image, upKernel].map { $0.grad!.scalars }
            )
        }
        let upCopied = upsample(copy: true), upRounded = upsample(copy: false)
        #expect(zip(upRounded.out, upCopied.out).filter { $0 != $1 }.isEmpty, "transposed conv outputs differ")
        for (i, name) in ["input", "weight"].enumerated() {
            let differ = zip(upRounded.grads[i], upCopied.grads[i]).filter { $0 != $1 }.count
            #expect(differ == 0, "\(differ) of the transposed conv's \(name) gradients differ")
        }
        let y2 = withAutocast(dtype) { conv2d(image, weight: kernel, groups: 2) }
        #expect(
            y2.creator?.inputs.last.map(ObjectIdentifier.init) == ObjectIdentifier(kernel), "the conv weight was cast")
    }
}
