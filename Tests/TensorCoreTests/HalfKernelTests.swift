import Foundation
import TensorCore
import Testing

/// The kernels that read and write 16-bit arrays in place (mixed precision) against their
/// fp32 paths on the widened inputs: bit for bit the fp32 result, rounded once.
@Suite("16-bit kernels against their fp32 paths")
struct HalfKernelTests {
    /// `a` and `b` hold the same bits.
    static func same(_ a: NDArray, _ b: NDArray, _ what: String) {
        #expect(a.dtype == b.dtype && a.shape == b.shape, "\(what): \(a.dtype) \(a.shape) vs \(b.dtype) \(b.shape)")
        let n = a.count * a.dtype.byteSize
        let equal = n == b.count * b.dtype.byteSize && memcmp(a.storage.raw, b.storage.raw, n) == 0
        #expect(equal, "\(what): values differ")
    }

    static let dtypes = [DType.float16, .bfloat16]

    @Test(arguments: dtypes)
    func layerNormRoundsOnce(dtype: DType) {
        var r = Rand(51)
        for (rows, d) in [(1, 1), (5, 7), (9, 13), (33, 64), (4, 130)] {
            let x = r.array([rows, d], low: -3, high: 3).converted(to: dtype),
                dy = r.array([rows, d]).converted(to: dtype)
            let w = r.array([d]), b = r.array([d])
            let (y, mean, rstd) = LayerNorm.forward(x, weight: w, bias: b)
            let (y32, mean32, rstd32) = LayerNorm.forward(x.float32, weight: w, bias: b)
            Self.same(y, y32.converted(to: dtype), "layer norm \(rows)x\(d)")
            Self.same(mean, mean32, "mean"); Self.same(rstd, rstd32, "rstd")
            let (dx, dw, db) = LayerNorm.backward(dy, x: x, mean: mean, rstd: rstd, weight: w, output: dtype)
            let (dx32, dw32, db32) = LayerNorm.backward(dy.float32, x: x.float32, mean: mean, rstd: rstd, weight: w)
            Self.same(dx, dx32.converted(to: dtype), "layer norm dx \(rows)x\(d)")
            Self.same(dw!, dw32!, "dw"); Self.same(db!, db32!, "db")
        }
    }

    @Test(arguments: dtypes)
    func causalSoftmaxRoundsOnce(dtype: DType) {
        var r = Rand(52)
        for (b, t) in [(1, 1), (2, 5), (3, 9), (2, 64)] {
            let x = r.array([b, t, t], low: -4, high: 4).converted(to: dtype),
                dy = r.array([b, t, t]).converted(to: dtype)
            let y = Softmax.causalForward(x, scale: 0.7)
            Self.same(y, Softmax.causalForward(x.float32, scale: 0.7).converted(to: dtype), "causal softmax \(b)x\(t)")
            Self.same(
                Softmax.causalBackward(dy, y: y, scale: 0.7, output: dtype),
                Softmax.causalBackward(dy.float32, y: y.float32, scale: 0.7).converted(to: dtype),
                "causal softmax dx \(b)x\(t)")
        }
    }

    /// The fused attention on 16-bit heads: O and the weights P are the fp32 kernel's on the
    /// widened heads, rounded once; so are the gradients, from the stored P and dO.
    @Test(arguments: dtypes)
    func attentionOn16BitHeadsRoundsOnce(dtype: DType) {
        var r = Rand(57)
        // (batch, Tq, Tk, heads, d, causal): single positions, odd sizes, cross-attention, and
        // heads large enough for the threaded GEMM instead of one head per thread.
        for (b, tq, tk, heads, d, causal) in [
            (1, 1, 1, 1, 8, true), (2, 7, 7, 3, 5, true), (2, 5, 9, 2, 16, false),
            (1, 70, 70, 2, 24, true), (3, 64, 64, 4, 32, true), (1, 200, 200, 1, 64, true),
        ] {
            let c = heads * d, what = "\(b)x\(tq)x\(tk), \(heads) heads of \(d)\(causal ? ", causal" : "")"
            let q = r.array([b, tq, c]).converted(to: dtype), dO = r.array([b, tq, c]).converted(to: dtype)
            let k = r.array([b, tk, c]).converted(to: dtype), v = r.array([b, tk, c]).converted(to: dtype)
            let (o, p) = Attention.forward(q: q, k: k, v: v, heads: heads, causal: causal, scale: 0.3)
            let (o32, p32) = Attention.forward(
                q: q.float32, k: k.float32, v: v.float32, heads: heads, causal: causal, scale: 0.3)
            Self.same(o, o32.converted(to: dtype), "attention output, \(what)")
            Self.same(p, p32.converted(to: dtype), "attention weights, \(what)")
            let reference = Attention.backward(
                dO.float32, q: q.float32, k: k.float32, v: v.float32, weights: p.float32,
                heads: heads, causal: causal, scale: 0.3)
            let half = Attention.backward(
                dO, q: q, k: k, v: v, weights: p, heads: heads, causal: causal, scale: 0.3,
                types: (dtype, dtype, dtype))
            let wide = Attention.backward(dO, q: q, k: k, v: v, weights: p, heads: heads, causal: causal, scale: 0.3)
            for (name, h, w, ref) in [
                ("dq", half.0, wide.0, reference.0), ("dk", half.1, wide.1, reference.1),
                ("dv", half.2, wide.2, reference.2),
            ] {
                Self.same(h, ref.converted(to: dtype), "attention \(name), \(what)")
                Self.same(w, ref, "attention \(name) in fp32, \(what)")
            }
        }
    }

    /// The LSTM recurrence on a 16-bit projected input runs in fp32: its states and saved values
    /// are the fp32 kernel's on the widened input, rounded once. Backward from them gives the
    /// fp32 backward's gate gradients (on the widened saved values) rounded once, the same dh0
    /// and dc0, and dW_hh and db_hh summed from the rounded gate gradients.
    @Test(arguments: dtypes)
    func lstmSequenceOn16BitInputsRoundsOnce(dtype: DType) {
        var r = Rand(58)
        // (batch, steps, hidden); the last splits its rows over the threads (LSTMSequence.rowGrain).
        for (b, t, h) in [(1, 1, 3), (2, 5, 7), (3, 9, 16), (70, 4, 8)] {
            let what = "\(b)x\(t), hidden \(h)"
            let projected = r.array([b, t, 4 * h]).converted(to: dtype)
            let w = r.array([4 * h, h], low: -0.5, high: 0.5), bias = r.array([4 * h]), h0 = r.array([b, h]),
                c0 = r.array([b, h])
            let (states, saved) = LSTMSequence.forward(projected: projected, weightHH: w, biasHH: bias, h0: h0, c0: c0)
            let (states32, saved32) = LSTMSequence.forward(
                projected: projected.float32, weightHH: w, biasHH: bias, h0: h0, c0: c0)
            Self.same(states, states32.converted(to: dtype), "LSTM states, \(what)")
            Self.same(saved.gates, saved32.gates.converted(to: dtype), "LSTM gates, \(what)")
            Self.same(saved.previousH, saved32.previousH.converted(to: dtype), "LSTM h_{t-1}, \(what)")
            Self.same(saved.tanhC, saved32.tanhC.converted(to: dtype), "LSTM tanh(c), \(what)")
            let dStates = r.array([b, t, 2 * h]).converted(to: dtype)
            let widened = LSTMSequence.Saved(
                gates: saved.gates.float32, previousH: saved.previousH.float32, tanhC: saved.tanhC.float32)
            let reference = LSTMSequence.backward(
                dStates.float32, saved: widened, states: states.float32, weightHH: w, c0: c0,
                overwritingSaved: true)
            let half = LSTMSequence.backward(
                dStates, saved: saved, states: states, weightHH: w, c0: c0, overwritingSaved: false)
            Self.same(half.projected, reference.projected.converted(to: dtype), "LSTM gate gradients, \(what)")
            Self.same(half.h0, reference.h0, "LSTM dh0, \(what)")
            Self.same(half.c0, reference.c0, "LSTM dc0, \(what)")
            Self.same(
                saved.gates, saved32.gates.converted(to: dtype),
                "LSTM gates after a backward that must not overwrite them, \(what)")
            // dW_hh and db_hh: the fp32 sums of the same rounded gate gradients.
            let dGates = half.projected.float32.reshaped([b * t, 4 * h]), previousH = saved.previousH.float32
            let dW = NDArray(shape: [4 * h, h])
            GEMM.sgemm(
                transA: true, transB: false, m: 4 * h, n: h, k: b * t, a: dGates.ptr, lda: 4 * h,
                b: previousH.ptr, ldb: h, c: dW.ptr, ldc: h)
            Self.same(half.weightHH, dW, "LSTM dW_hh, \(what)")
            // The bias gradient sums 16-bit rows in another order than Reduce.sum.
            let db = Reduce.sum(dGates, axes: [0])
            #expect(
                zip(half.biasHH.scalars, db.scalars).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) },
                "LSTM db_hh, \(what)")
        }
    }

    @Test(arguments: dtypes)
    func elementwiseAndLayoutKernelsKeep16Bits(dtype: DType) {
        var r = Rand(53)
        for count in [1, 7, 513, 1025] {
            let a32 = r.array([count], low: -3, high: 3), b32 = r.array([count])
            // Signed zeros, infinities, a NaN and subnormals (as x, and as dy where x > 0).
            let specials: [Float] = [0, -0.0, .infinity, -.infinity, .nan, 1e-40, -1e-40, 3e-8, -3e-8]
            for (i, v) in specials.enumerated() where 2 * i + 1 < count {
                a32.ptr[2 * i] = v
                (a32.ptr[2 * i + 1], b32.ptr[2 * i + 1]) = (1, v)
            }
            let a = a32.converted(to: dtype), b = b32.converted(to: dtype)
            // ReLU selects bits: its forward is the fp32 one rounded.
            Self.same(
                Activation.relu.forward(a), Activation.relu.forward(a.float32).converted(to: dtype), "relu \(count)")
            // Activation backwards with a 16-bit path: a 16-bit dy and x (or y) to a 16-bit dx in one pass.
            for f in [Activation.relu, .sigmoid, .tanh, .geluTanh, .silu] {
                let y = f.forward(a)
                Self.same(
                    f.backward(b, x: a, y: y, output: dtype),
                    f.backward(b.float32, x: a.float32, y: y.float32).converted(to: dtype), "\(f) dx \(count)")
            }
            for op in [Binary.Op.add, .sub, .mul, .maximum] {
                Self.same(
                    Binary.forward(op, a, b), Binary.forward(op, a.float32, b.float32).converted(to: dtype),
                    "\(op) \(count)")
            }
        }
        // Permute, broadcast and slice move 16-bit elements as they are.
        let x = r.array([3, 5, 7]).converted(to: dtype)
        Self.same(Layout.permute(x, [2, 0, 1]), Layout.permute(x.float32, [2, 0, 1]).converted(to: dtype), "permute")
        for (axis, start, end, step) in [(0, 1, 3, 1), (1, 0, 5, 2), (2, 3, 7, 1), (2, 1, 6, 3)] {
            Self.same(
                Layout.slice(x, axis: axis, start: start, end: end, step: step),
                Layout.slice(x.float32, axis: axis, start: start, end: end, step: step).converted(to: dtype),
                "slice axis \(axis) \(start)..<\(end) step \(step)")
        }
        Self.same(
            Layout.broadcast(x.float32.converted(to: dtype).reshaped([3, 1, 35]), to: [3, 4, 35]),
            Layout.broadcast(x.float32.reshaped([3, 1, 35]), to: [3, 4, 35]).converted(to: dtype), "broadcast")
        // A linear layer's bias gradient from a 16-bit dy: the same sums as from the widened dy.
        let dy = r.array([37, 130]).converted(to: dtype)
        Self.same(Reduce.columnSums(dy), Reduce.sum(dy.float32, axes: [0]), "column sums")
        // Embedding rows gathered from a 16-bit table, and a 16-bit gradient scattered back.
        let table = r.array([11, 9]).converted(to: dtype), ids = NDArray(indices: [3, 0, 10, 3, 7], shape: [5])
        Self.same(
            Embedding.forward(table, ids: ids), Embedding.forward(table.float32, ids: ids).converted(to: dtype),
            "embedding")
        let dOut = r.array([5, 9]).converted(to: dtype)
        Self.same(
            Embedding.backward(dOut, ids: ids, rows: 11), Embedding.backward(dOut.float32, ids: ids, rows: 11),
            "embedding backward")
        // An fp32 table read rounded gives the rows of its 16-bit copy, bit for bit.
        let wide = r.array([11, 9])
        Self.same(
            Embedding.forward(wide, ids: ids, rounding: dtype), Embedding.forward(wide.converted(to: dtype), ids: ids),
            "embedding rows rounded")
    }

    /// Convolution with a 16-bit output (the bias added before the one rounding) and a 16-bit
    /// dy (widened as it is gathered; the bias gradient summed from it), and max pooling of a
    /// 16-bit x with its 16-bit gradient, on odd shapes.
    @Test(arguments: dtypes)
    func convolutionAndPoolingKeep16Bits(dtype: DType) {
        var r = Rand(54)
        for (n, c, oc, h, w, groups) in [(1, 1, 3, 5, 7, 1), (3, 2, 4, 9, 8, 2), (2, 3, 5, 13, 11, 1)] {
            let g = Conv2DGeometry(kernel: (3, 2), stride: (1, 2), padding: (1, 0))
            let x = r.array([n, c, h, w]).converted(to: dtype),
                wt = r.array([oc, c / groups, 3, 2]).converted(to: dtype)
            let bias = r.array([oc])
            let y = Conv2D.forward(x, wt, bias: bias, g, groups: groups, output: dtype)
            let y32 = Conv2D.forward(x, wt, bias: bias, g, groups: groups)
            Self.same(y, y32.converted(to: dtype), "conv \(x.shape) output")
            let dy = r.array(y.shape).converted(to: dtype)
            let (dx, dw, db) = Conv2D.backward(dy, x: x, w: wt, hasBias: true, g, groups: groups)
            let (dx32, dw32, db32) = Conv2D.backward(dy.float32, x: x, w: wt, hasBias: true, g, groups: groups)
            Self.same(dx!, dx32!, "conv dx"); Self.same(dw, dw32, "conv dw"); Self.same(db!, db32!, "conv db")
            // The bias gradient is dy summed over images and pixels.
            let dys = dy.float32.scalars.map(Double.init), p = y.shape[2] * y.shape[3]
            var reference = [Double](repeating: 0, count: oc)
            for i in 0..<n { for ch in 0..<oc { for e in 0..<p { reference[ch] += dys[(i * oc + ch) * p + e] } } }
            expectClose(db!, reference, tol: 1e-5, "conv db against its sum")

            let pool = Conv2DGeometry(kernel: (2, 2), stride: (2, 2))
            let (pooled, indices) = Pool2D.maxForward(x, pool)
            let (pooled32, indices32) = Pool2D.maxForward(x.float32, pool)
            Self.same(pooled, pooled32.converted(to: dtype), "max pool");
            Self.same(indices, indices32, "max pool indices")
            let dp = r.array(pooled.shape).converted(to: dtype)
            Self.same(
                Pool2D.maxBackward(dp, indices: indices, inputShape: x.shape, output: dtype),
                Pool2D.maxBackward(dp.float32, indices: indices, inputShape: x.shape).converted(to: dtype),
                "max pool dx")
        }
    }
}
