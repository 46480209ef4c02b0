import Autograd
import NN
import Testing

/// One row of the gradient-check table: an op applied to random inputs of given shapes.
struct GradCase: Sendable, CustomTestStringConvertible {
    enum Inputs: Sendable { case normal, positive, spread }
    let name: String
    let shapes: [Shape]
    var inputs: Inputs = .normal
    /// Finite-difference step; smaller for ops with kinks (relu, max) so no kink is crossed.
    var h: Double = 1e-2
    var rtol: Double = 2e-2
    var atol: Double = 2e-3
    let f: @Sendable ([Tensor]) -> Tensor

    var testDescription: String { name }

    /// Deterministic random inputs; `spread` keeps values far apart so max/pool ties never occur.
    func makeInputs() -> [NDArray] {
        var rng = PhiloxRNG(seed: UInt64(name.utf8.reduce(7) { $0 &* 31 &+ UInt64($1) }))
        return shapes.map { s in
            let a = NDArray(shape: s, zeroed: false)
            switch inputs {
            case .normal: rng.fillUniform(a.ptr, a.count, low: -2, high: 2)
            case .positive: rng.fillUniform(a.ptr, a.count, low: 0.5, high: 2.5)
            case .spread:
                // A random permutation of a grid with step 0.1 (far wider than h).
                var order = Array(0..<a.count)
                for i in stride(from: order.count - 1, to: 0, by: -1) {
                    let j = Int(PhiloxRNG.block(seed: rng.seed, counter: rng.advance(1))[0] % UInt32(i + 1))
                    order.swapAt(i, j)
                }
                for i in 0..<a.count { a.ptr[i] = Float(order[i]) * 0.1 - Float(a.count) * 0.05 }
            }
            return a
        }
    }
}

/// Every differentiable op, with shapes that include odd sizes, broadcasting and every
/// conv and pool option. Adding an op adds one row here.
let gradCases: [GradCase] = [
    // Arithmetic with broadcasting.
    GradCase(name: "add broadcast", shapes: [[3, 1, 5], [4, 5]]) { $0[0] + $0[1] },
    GradCase(name: "sub broadcast", shapes: [[2, 3], [3]]) { $0[0] - $0[1] },
    GradCase(name: "mul broadcast", shapes: [[3, 4, 1], [1, 5]]) { $0[0] * $0[1] },
    GradCase(name: "div", shapes: [[3, 5], [3, 5]], inputs: .positive) { $0[0] / $0[1] },
    GradCase(name: "div broadcast", shapes: [[2, 3, 4], [3, 1]], inputs: .positive) { $0[0] / $0[1] },
    GradCase(name: "maximum", shapes: [[3, 7], [3, 7]], inputs: .spread, h: 1e-3) { maximum($0[0], $0[1]) },
    GradCase(name: "minimum broadcast", shapes: [[4, 3], [3]], inputs: .spread, h: 1e-3) { minimum($0[0], $0[1]) },
    GradCase(name: "affine", shapes: [[5, 3]]) { $0[0] * 1.5 - 0.25 },
    GradCase(name: "neg", shapes: [[7]]) { -$0[0] },
    // Unary math.
    GradCase(name: "exp", shapes: [[3, 5]]) { $0[0].exp() },
    GradCase(name: "log", shapes: [[3, 5]], inputs: .positive) { $0[0].log() },
    GradCase(name: "sqrt", shapes: [[3, 5]], inputs: .positive) { $0[0].sqrt() },
    GradCase(name: "abs", shapes: [[4, 5]], inputs: .spread, h: 1e-3) { $0[0].abs() },
    GradCase(name: "pow 2", shapes: [[3, 5]]) { $0[0].pow(2) },
    GradCase(name: "pow 3", shapes: [[3, 5]]) { $0[0].pow(3) },
    GradCase(name: "pow 0.5", shapes: [[3, 5]], inputs: .positive) { $0[0].pow(0.5) },
    GradCase(name: "clamp", shapes: [[6, 5]], inputs: .spread, h: 1e-3) { $0[0].clamp(min: -0.75, max: 0.85) },
    // Activations.
    GradCase(name: "relu", shapes: [[5, 7]], inputs: .spread, h: 1e-3) { $0[0].relu() },
    GradCase(name: "leaky relu", shapes: [[5, 7]], inputs: .spread, h: 1e-3) { $0[0].leakyRelu(slope: 0.1) },
    GradCase(name: "elu", shapes: [[5, 7]], inputs: .spread, h: 1e-3) { $0[0].elu(alpha: 0.8) },
    GradCase(name: "sigmoid", shapes: [[5, 7]]) { $0[0].sigmoid() },
    GradCase(name: "tanh", shapes: [[5, 7]]) { $0[0].tanh() },
    GradCase(name: "gelu tanh", shapes: [[5, 7]]) { $0[0].gelu(approximate: true) },
    GradCase(name: "gelu erf", shapes: [[5, 7]]) { $0[0].gelu(approximate: false) },
    GradCase(name: "silu", shapes: [[5, 7]]) { $0[0].silu() },
    GradCase(name: "softplus", shapes: [[5, 7]]) { $0[0].softplus(beta: 2, threshold: 3) },
    // Odd element counts keep the spread grid off the kink at 0.
    GradCase(name: "prelu per channel", shapes: [[3, 3, 1, 5], [3]], inputs: .spread, h: 1e-3) {
        prelu($0[0], slope: $0[1])
    },
    GradCase(name: "prelu shared", shapes: [[3, 5], [1]], inputs: .spread, h: 1e-3) { prelu($0[0], slope: $0[1]) },
    // Reductions.
    GradCase(name: "sum all", shapes: [[3, 4, 5]]) { $0[0].sum() },
    GradCase(name: "sum axes 0,2", shapes: [[3, 4, 5]]) { $0[0].sum(axes: [0, 2]) },
    GradCase(name: "sum keepdims", shapes: [[3, 4, 5]]) { $0[0].sum(axes: [1], keepDims: true) },
    GradCase(name: "mean axis 1", shapes: [[3, 4, 5]]) { $0[0].mean(axes: [1]) },
    GradCase(name: "mean all", shapes: [[7, 3]]) { $0[0].mean() },
    GradCase(name: "max axis -1", shapes: [[3, 4, 5]], inputs: .spread, h: 1e-3) { $0[0].max(axes: [-1]) },
    GradCase(name: "max axes 0,2", shapes: [[3, 4, 5]], inputs: .spread, h: 1e-3) { $0[0].max(axes: [0, 2]) },
    GradCase(name: "min axis 0", shapes: [[5, 3]], inputs: .spread, h: 1e-3) { $0[0].min(axes: [0]) },
    GradCase(name: "variance unbiased", shapes: [[4, 6]]) { $0[0].variance(axes: [1]) },
    GradCase(name: "variance population axes 0,2", shapes: [[3, 2, 5]]) {
        $0[0].variance(axes: [0, 2], correction: 0)
    },
    // Matrix products, odd sizes, every transpose combination.
    GradCase(name: "matmul", shapes: [[5, 7], [7, 3]]) { matmul($0[0], $0[1]) },
    GradCase(name: "matmul Aᵀ", shapes: [[7, 5], [7, 3]]) { matmul($0[0], $0[1], transA: true) },
    GradCase(name: "matmul Bᵀ", shapes: [[5, 7], [3, 7]]) { matmul($0[0], $0[1], transB: true) },
    GradCase(name: "matmul AᵀBᵀ", shapes: [[7, 5], [3, 7]]) { matmul($0[0], $0[1], transA: true, transB: true) },
    GradCase(name: "batched matmul", shapes: [[2, 3, 5, 4], [2, 3, 4, 6]]) { matmul($0[0], $0[1]) },
    GradCase(name: "batched matmul Bᵀ", shapes: [[3, 5, 4], [3, 6, 4]]) { matmul($0[0], $0[1], transB: true) },
    GradCase(name: "batched matmul Aᵀ", shapes: [[3, 4, 5], [3, 4, 6]]) { matmul($0[0], $0[1], transA: true) },
    GradCase(name: "matmul shared 2-D b", shapes: [[2, 3, 5], [5, 4]]) { matmul($0[0], $0[1]) },
    GradCase(name: "linear", shapes: [[6, 5], [3, 5], [3]]) { linear($0[0], weight: $0[1], bias: $0[2]) },
    GradCase(name: "linear, 3-D input", shapes: [[2, 3, 5], [4, 5], [4]]) { linear($0[0], weight: $0[1], bias: $0[2]) },
    GradCase(name: "linear without bias", shapes: [[3, 5], [4, 5]]) { linear($0[0], weight: $0[1], bias: nil) },
    // Convolutions: every option.
    GradCase(name: "conv2d", shapes: [[2, 3, 7, 6], [4, 3, 3, 3], [4]]) { conv2d($0[0], weight: $0[1], bias: $0[2]) },
    GradCase(name: "conv2d stride 2 pad 1", shapes: [[2, 2, 7, 8], [3, 2, 3, 3], [3]]) {
        conv2d($0[0], weight: $0[1], bias: $0[2], stride: (2, 2), padding: (1, 1))
    },
    GradCase(name: "conv2d rect kernel stride (1,2) pad (2,0)", shapes: [[1, 2, 6, 7], [2, 2, 3, 2]]) {
        conv2d($0[0], weight: $0[1], stride: (1, 2), padding: (2, 0))
    },
    GradCase(name: "conv2d dilation 2", shapes: [[2, 2, 9, 8], [3, 2, 3, 3], [3]]) {
        conv2d($0[0], weight: $0[1], bias: $0[2], padding: (1, 1), dilation: (2, 2))
    },
    GradCase(name: "conv2d groups 2", shapes: [[2, 4, 6, 5], [6, 2, 3, 3], [6]]) {
        conv2d($0[0], weight: $0[1], bias: $0[2], padding: (1, 1), groups: 2)
    },
    GradCase(name: "conv2d depthwise", shapes: [[2, 3, 6, 6], [3, 1, 3, 3], [3]]) {
        conv2d($0[0], weight: $0[1], bias: $0[2], stride: (2, 2), padding: (1, 1), groups: 3)
    },
    GradCase(name: "conv2d 1x1", shapes: [[3, 5, 4, 3], [2, 5, 1, 1]]) { conv2d($0[0], weight: $0[1]) },
    GradCase(name: "conv transpose2d", shapes: [[2, 3, 4, 5], [3, 2, 3, 3], [2]]) {
        convTranspose2d($0[0], weight: $0[1], bias: $0[2])
    },
    GradCase(name: "conv transpose2d stride 2 pad 1 outpad 1", shapes: [[2, 2, 4, 3], [2, 3, 3, 3], [3]]) {
        convTranspose2d($0[0], weight: $0[1], bias: $0[2], stride: (2, 2), padding: (1, 1), outputPadding: (1, 1))
    },
    GradCase(name: "conv transpose2d groups 2 dilation 2", shapes: [[1, 4, 4, 4], [4, 1, 3, 2]]) {
        convTranspose2d($0[0], weight: $0[1], dilation: (2, 2), groups: 2)
    },
    // Pooling: every option.
    GradCase(name: "max pool 2", shapes: [[2, 3, 8, 6]], inputs: .spread, h: 1e-3) { maxPool2d($0[0], kernel: (2, 2)) },
    GradCase(name: "max pool 3 stride 2 pad 1", shapes: [[2, 2, 7, 7]], inputs: .spread, h: 1e-3) {
        maxPool2d($0[0], kernel: (3, 3), stride: (2, 2), padding: (1, 1))
    },
    GradCase(name: "max pool dilation 2", shapes: [[1, 2, 8, 7]], inputs: .spread, h: 1e-3) {
        maxPool2d($0[0], kernel: (2, 2), stride: (1, 1), dilation: (2, 2))
    },
    GradCase(name: "max pool ceil mode", shapes: [[1, 2, 7, 6]], inputs: .spread, h: 1e-3) {
        maxPool2d($0[0], kernel: (3, 3), stride: (2, 2), ceilMode: true)
    },
    GradCase(name: "avg pool 2", shapes: [[2, 3, 6, 5]]) { avgPool2d($0[0], kernel: (2, 2)) },
    GradCase(name: "avg pool pad include", shapes: [[2, 2, 7, 6]]) {
        avgPool2d($0[0], kernel: (3, 3), stride: (2, 2), padding: (1, 1))
    },
    GradCase(name: "avg pool pad exclude ceil", shapes: [[2, 2, 7, 6]]) {
        avgPool2d($0[0], kernel: (3, 3), stride: (2, 2), padding: (1, 1), ceilMode: true, countIncludePad: false)
    },
    GradCase(name: "global avg pool", shapes: [[2, 3, 4, 5]]) { globalAvgPool2d($0[0]) },
    // Softmax and normalisation.
    GradCase(name: "softmax last axis", shapes: [[4, 7]]) { $0[0].softmax() },
    GradCase(name: "softmax middle axis", shapes: [[2, 5, 3]]) { $0[0].softmax(axis: 1) },
    GradCase(name: "log softmax", shapes: [[4, 7]]) { $0[0].logSoftmax() },
    GradCase(name: "softmax and log softmax, lanes wider than a vector", shapes: [[3, 19]]) {
        $0[0].softmax() * $0[0].logSoftmax()
    },
    GradCase(name: "log softmax axis 0", shapes: [[5, 3]]) { $0[0].logSoftmax(axis: 0) },
    GradCase(name: "causal softmax scaled", shapes: [[2, 3, 5, 5]]) { $0[0].causalSoftmax(scale: 0.7) },
    GradCase(name: "causal softmax, rows past 8", shapes: [[1, 2, 11, 11]]) { $0[0].causalSoftmax(scale: 0.7) },
    GradCase(name: "layer norm", shapes: [[2, 3, 7], [7], [7]]) { layerNorm($0[0], weight: $0[1], bias: $0[2]) },
    GradCase(name: "layer norm no affine", shapes: [[5, 6]]) { layerNorm($0[0], weight: nil, bias: nil) },
    GradCase(name: "batch norm train 4-D", shapes: [[3, 2, 3, 4], [2], [2]]) {
        batchNorm($0[0], weight: $0[1], bias: $0[2], runningMean: nil, runningVar: nil, training: true)
    },
    GradCase(name: "batch norm train 2-D", shapes: [[6, 5], [5], [5]]) {
        batchNorm($0[0], weight: $0[1], bias: $0[2], runningMean: nil, runningVar: nil, training: true)
    },
    GradCase(name: "batch norm eval", shapes: [[3, 2, 2, 3], [2], [2]]) {
        batchNorm(
            $0[0], weight: $0[1], bias: $0[2], runningMean: NDArray([0.3, -0.2], shape: [2]),
            runningVar: NDArray([1.5, 0.7], shape: [2]), training: false)
    },
    // Dropout: the mask is a fixed function of (seed, offset), so the op is differentiable.
    GradCase(name: "dropout", shapes: [[6, 9]]) {
        var rng = PhiloxRNG(seed: 5)
        return dropout($0[0], p: 0.3, rng: &rng)
    },
    // Embedding: gradient with respect to the table, with repeated ids.
    GradCase(name: "embedding", shapes: [[5, 4]]) {
        embedding($0[0], ids: NDArray(indices: [1, 3, 1, 0, 4, 3], shape: [2, 3]))
    },
    // Layout.
    GradCase(name: "reshape", shapes: [[3, 4]]) { $0[0].reshaped([2, -1]) * $0[0].reshaped([2, 6]) },
    GradCase(name: "flatten", shapes: [[2, 3, 2]]) { $0[0].flattened().pow(2) },
    GradCase(name: "permute", shapes: [[2, 3, 4]]) { $0[0].permuted([2, 0, 1]).pow(2) },
    GradCase(name: "transpose", shapes: [[3, 5]]) { matmul($0[0].transposed(), $0[0]) },
    GradCase(name: "slice step 2", shapes: [[4, 7]]) { $0[0].slice(axis: 1, start: 1, end: 6, step: 2).pow(2) },
    GradCase(name: "pad", shapes: [[2, 3]]) { $0[0].padded([(1, 0), (2, 1)], value: 0.5).pow(2) },
    GradCase(name: "broadcast to", shapes: [[3, 1]]) { $0[0].broadcast(to: [2, 3, 4]).pow(2) },
    GradCase(name: "concat", shapes: [[2, 3], [2, 2], [2, 1]]) { concat([$0[0], $0[1], $0[2]], axis: 1).pow(2) },
    GradCase(name: "split", shapes: [[5, 3]]) {
        let parts = $0[0].split(sizes: [2, 3], axis: 0)
        return matmul(parts[0], parts[1], transB: true)
    },
    // Selection.
    GradCase(name: "where broadcast", shapes: [[3, 4], [4]]) {
        `where`(NDArray([1, 0, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1], shape: [3, 4]), $0[0], $0[1])
    },
    GradCase(name: "masked fill causal", shapes: [[2, 4, 4]]) {
        let mask = NDArray((0..<16).map { Float($0 % 4 > $0 / 4 ? 1 : 0) }, shape: [4, 4])
        return $0[0].maskedFill(mask, value: -1e4).softmax()
    },
    // Losses.
    GradCase(name: "cross entropy", shapes: [[5, 4]]) {
        crossEntropy($0[0], targets: NDArray(indices: [0, 3, 2, 1, 3], shape: [5]))
    },
    GradCase(name: "cross entropy smoothing + ignore", shapes: [[5, 4]]) {
        crossEntropy(
            $0[0], targets: NDArray(indices: [0, -100, 2, 1, 3], shape: [5]), labelSmoothing: 0.1, ignoreIndex: -100)
    },
    // Attention: (B 2, T 4, C 6) with 2 heads; every projection, the queries and the keys and
    // values receive their gradient through the (causal or full) softmax.
    GradCase(name: "causal self-attention", shapes: [[2, 4, 6], [6, 6], [6, 6], [6, 6], [6, 6], [6]]) { t in
        MultiHeadAttention(
            heads: 2, query: Linear(weight: t[1], bias: t[5]), key: Linear(weight: t[2], bias: nil),
            value: Linear(weight: t[3], bias: nil), output: Linear(weight: t[4], bias: nil))(t[0], causal: true)
    },
    GradCase(name: "cross-attention", shapes: [[2, 3, 4], [2, 5, 4], [4, 4], [4, 4], [4, 4], [4, 4]]) { t in
        MultiHeadAttention(
            heads: 2, query: Linear(weight: t[2], bias: nil), key: Linear(weight: t[3], bias: nil),
            value: Linear(weight: t[4], bias: nil), output: Linear(weight: t[5], bias: nil))(t[0], context: t[1])
    },
    // The attention op alone (MultiHeadAttention calls it in fp32): 3 heads of 2 over T 5, and
    // cross-attention from 3 queries to 7 keys; q, k and v each receive their gradient.
    GradCase(name: "attention op, causal", shapes: [[2, 5, 6], [2, 5, 6], [2, 5, 6]]) {
        scaledDotProductAttention($0[0], $0[1], $0[2], heads: 3, causal: true)
    },
    GradCase(name: "attention op, cross", shapes: [[2, 3, 4], [2, 7, 4], [2, 7, 4]]) {
        scaledDotProductAttention($0[0], $0[1], $0[2], heads: 2, causal: false, scale: 0.7)
    },
    // Recurrent layers through time: input (B 2, T 3, I 4), H 3, with an initial state; every
    // weight, bias, input and state receives its gradient back through all three steps.
    GradCase(name: "rnn through time", shapes: [[2, 3, 4], [3, 4], [3, 3], [3], [3], [2, 3]]) { t in
        Recurrent(.rnn, cells: [RNNCell(weightIH: t[1] * 0.5, weightHH: t[2] * 0.5, biasIH: t[3], biasHH: t[4])])(
            t[0], initial: [[t[5]]]
        ).output
    },
    GradCase(name: "lstm through time", shapes: [[2, 3, 4], [12, 4], [12, 3], [12], [12], [2, 3], [2, 3]]) { t in
        Recurrent(.lstm, cells: [LSTMCell(weightIH: t[1] * 0.5, weightHH: t[2] * 0.5, biasIH: t[3], biasHH: t[4])])(
            t[0], initial: [[t[5], t[6]]]
        ).output
    },
    GradCase(name: "lstm sequence op", shapes: [[3, 4, 8], [8, 2], [8], [3, 2], [3, 2]]) { t in
        lstmSequence(projected: t[0], weightHH: t[1] * 0.5, biasHH: t[2], h0: t[3], c0: t[4])
    },
    GradCase(name: "gru through time", shapes: [[2, 3, 4], [9, 4], [9, 3], [9], [9], [2, 3]]) { t in
        Recurrent(.gru, cells: [GRUCell(weightIH: t[1] * 0.5, weightHH: t[2] * 0.5, biasIH: t[3], biasHH: t[4])])(
            t[0], initial: [[t[5]]]
        ).output
    },
    GradCase(name: "two-layer lstm, final state", shapes: [[2, 3, 2], [8, 2], [8, 2], [8, 2], [8, 2]]) { t in
        let b = Tensor(NDArray(shape: [8]))
        let (_, final) = Recurrent(
            .lstm,
            cells: [
                LSTMCell(weightIH: t[1] * 0.5, weightHH: t[2] * 0.5, biasIH: b, biasHH: b),
                LSTMCell(weightIH: t[3] * 0.5, weightHH: t[4] * 0.5, biasIH: b, biasHH: b),
            ])(t[0])
        return final[1][0] + final[1][1]
    },
]

@Test("gradient matches central differences", arguments: gradCases)
func gradientCheck(_ c: GradCase) {
    let failures = GradientCheck.run(c.makeInputs(), h: c.h, rtol: c.rtol, atol: c.atol, c.f)
    #expect(failures.isEmpty, "\(c.name): \(failures.joined(separator: "; "))")
}

@Test("the gradient check rejects a wrong VJP")
func gradientCheckCatchesWrongVJP() {
    // y = x², recorded with the VJP of y = x³: the check must report it.
    let failures = GradientCheck.run([NDArray([0.5, -1.2, 2], shape: [3])], h: 1e-2, rtol: 2e-2, atol: 2e-3) { xs in
        let x = xs[0].data
        return Tensor.record("square with a wrong vjp", Unary.pow_forward(x, 2), inputs: [xs[0]]) { dy in
            [Unary.pow_backward(dy, x: x, 3)]
        }
    }
    #expect(failures.count == 3)
}

@Test("no-grad records nothing; backward accumulates through shared inputs")
func tapeBehaviour() {
    let x = Tensor([1, 2, 3], shape: [3], requiresGrad: true)
    let y = withNoGrad { (x * x).sum() }
    #expect(!y.requiresGrad && y.isLeaf)
    // x used twice: d/dx (x·x + 3x) = 2x + 3
    let z = (x * x + x * 3).sum()
    z.backward()
    #expect(x.grad!.scalars == [5, 7, 9])
    // A deep chain (a long recurrence) does not overflow the stack.
    var h = Tensor([0.1], shape: [1], requiresGrad: true), acc = h
    for _ in 0..<20_000 { acc = acc * 0.9999 + h * 0.0001 }
    acc.sum().backward()
    #expect(h.grad != nil)
    h = Tensor([0], shape: [1])
}

@Test("a leaf's gradient-ready hook fires once, when its gradient is final, last layer first")
func gradientReadyHooks() {
    let w1 = Tensor([0.5, -0.3, 0.8, 0.1, 0.2, -0.7], shape: [3, 2], requiresGrad: true)
    let w2 = Tensor([0.4, -0.6, 0.9], shape: [1, 3], requiresGrad: true)
    let x = Tensor([1, 2, -1, 0.5], shape: [2, 2])
    var fired: [String] = []
    var gradAtHook: [Float] = []
    w1.onGradientReady = { t in
        fired.append("w1"); gradAtHook = t.grad!.scalars
    }
    w2.onGradientReady = { _ in fired.append("w2") }
    // w1 is read twice (two branches), so its hook must wait for both VJPs.
    let h = matmul(x, w1, transB: true).tanh() + matmul(x, w1, transB: true).relu()
    matmul(h, w2, transB: true).sum().backward()
    #expect(fired == ["w2", "w1"])
    #expect(gradAtHook == w1.grad!.scalars)
}
