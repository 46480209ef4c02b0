#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The LSTM recurrence over a whole sequence (PyTorch's gate order i, f, g, o), forward and
/// backward, as one kernel: c_t = σ(f)·c_{t-1} + σ(i)·tanh(g), h_t = σ(o)·tanh(c_t), with
/// gates = x_t·W_ihᵀ + b_ih (given, for all steps) + h_{t-1}·W_hhᵀ + b_hh.
///
/// Unrolled op by op, each step makes a dozen small arrays, and backward accumulates a
/// (4H, H) weight gradient per step with a K = B product. Here the gate math is one pass per
/// step, and dW_hh is one GEMM over all B·T rows at the end.
public enum LSTMSequence {
    /// What backward needs from forward.
    public struct Saved {
        /// Activated gates [σ(i), σ(f), tanh(g), σ(o)], (B, T, 4H).
        public let gates: NDArray
        /// h_{t-1} for every (b, t), h0 at t = 0: (B·T, H).
        public let previousH: NDArray
        /// tanh(c_t), (B, T, H): backward needs it, and tanh is a third of the gate math's time.
        public let tanhC: NDArray
    }

    /// Shapes: projected (B, T, 4H), weightHH (4H, H), biasHH (4H), h0 and c0 (B, H) ->
    /// states (B, T, 2H), each step's [h_t ‖ c_t].
    public static func forward(projected: NDArray, weightHH: NDArray, biasHH: NDArray, h0: NDArray, c0: NDArray)
        -> (states: NDArray, saved: Saved) {
        let (b, t, g4) = (projected.shape[0], projected.shape[1], projected.shape[2])
        let h = g4 / 4
        precondition(g4 == 4 * h && weightHH.shape == [g4, h] && biasHH.count == g4 && h0.shape == [b, h] && c0.shape == [b, h],
                     "LSTM shapes: projected \(projected.shape), W_hh \(weightHH.shape), b_hh \(biasHH.shape), h0 \(h0.shape), c0 \(c0.shape)")
        let gates = NDArray(shape: [b, t, g4], zeroed: false)
        let states = NDArray(shape: [b, t, 2 * h], zeroed: false)
        let previousH = NDArray(shape: [b * t, h], zeroed: false), tanhC = NDArray(shape: [b, t, h], zeroed: false)
        let gp = gates.ptr, sp = states.ptr, pp = projected.ptr, bias = biasHH.ptr, hp = previousH.ptr, tp = tanhC.ptr
        // Row r's gates at `step` start as projected + b_hh just before the GEMM adds to them
        // (still in cache; one pass over all steps first went through memory), and h_{t-1} is
        // kept for backward's dW_hh.
        func prepare(_ r: Int, _ step: Int, hPrevious: UnsafePointer<Float>) {
            let (gate, input) = (gp + (r * t + step) * g4, pp + (r * t + step) * g4)
            for j in 0..<g4 { gate[j] = input[j] + bias[j] }
            (hp + (r * t + step) * h).update(from: hPrevious, count: h)
        }
        for r in 0..<b { prepare(r, 0, hPrevious: h0.ptr + r * h) }
        // W_hhᵀ is packed once for all T steps (each step's product would repack all of it).
        let weight = GEMMPackedB(transB: true, k: h, n: g4, b: GEMMOperand(weightHH.ptr, ld: h))
        for step in 0..<t {
            // h_{t-1}: h0, or the h half of the previous step's states (row stride T·2H).
            let (hPrev, hStride) = step == 0 ? (UnsafePointer(h0.ptr), h) : (UnsafePointer(sp + (step - 1) * 2 * h), t * 2 * h)
            GEMM.sgemm(transA: false, m: b, a: hPrev, lda: hStride, packedB: weight, beta: 1, c: gp + step * g4, ldc: t * g4)
            // Rows are independent: the threads split them (the char LSTM on 2 threads: 35.0 ->
            // 31.8 ms per step, where this loop ran on one of them).
            ThreadPool.shared.parallelFor(b, grain: rowGrain(g4)) { rows in
                for r in rows {
                    let gate = gp + (r * t + step) * g4, out = sp + (r * t + step) * 2 * h, tc = tp + (r * t + step) * h
                    let cPrev = step == 0 ? UnsafePointer(c0.ptr + r * h) : UnsafePointer(sp + (r * t + step - 1) * 2 * h + h)
                    // One short loop per formula, each touching few arrays: a single loop over all
                    // of them kept the vectoriser out (too many pointers that might overlap), and ran
                    // scalar at a fifth of the LSTM step.
                    let (i, f, g, o, c) = (gate, gate + h, gate + 2 * h, gate + 3 * h, out + h)
                    for j in 0..<(2 * h) { i[j] = FastMath.sigmoid(i[j]) }                  // i, f
                    for j in 0..<h { g[j] = FastMath.tanh(g[j]) }                           // g
                    for j in 0..<h { o[j] = FastMath.sigmoid(o[j]) }                        // o
                    for j in 0..<h { c[j] = f[j] * cPrev[j] + i[j] * g[j] }                 // c_t
                    for j in 0..<h { tc[j] = FastMath.tanh(c[j]) }
                    for j in 0..<h { out[j] = o[j] * tc[j] }                                 // h_t
                    if step + 1 < t { prepare(r, step + 1, hPrevious: out) }
                }
            }
        }
        return (states, Saved(gates: gates, previousH: previousH, tanhC: tanhC))
    }

    /// Gradients of `forward` from dStates (B, T, 2H): (dProjected (B, T, 4H), dWeightHH (4H, H),
    /// dBiasHH (4H), dh0 (B, H), dc0 (B, H)).
    /// - Parameter overwritingSaved: write the gate gradients over `saved.gates` (nothing may
    ///   read `saved` afterwards); otherwise they go to a copy.
    public static func backward(_ dStates: NDArray, saved: Saved, states: NDArray, weightHH: NDArray, c0: NDArray,
                                overwritingSaved: Bool)
        -> (projected: NDArray, weightHH: NDArray, biasHH: NDArray, h0: NDArray, c0: NDArray) {
        let (b, t, h2) = (states.shape[0], states.shape[1], states.shape[2])
        let h = h2 / 2, g4 = 4 * h
        // Each gate's gradient replaces the gate in place, so that backward's biggest array is
        // not a second (B, T, 4H) beside the saved one.
        let dGates = overwritingSaved ? saved.gates : saved.gates.copy()
        let dhNext = NDArray(shape: [b, h]), dcNext = NDArray(shape: [b, h])
        let dg = dGates.ptr, sp = states.ptr, ds = dStates.ptr, dh = dhNext.ptr, dc = dcNext.ptr
        let tp = saved.tanhC.ptr
        let weight = GEMMPackedB(transB: false, k: g4, n: h, b: GEMMOperand(weightHH.ptr, ld: h))  // once for all steps
        for step in stride(from: t - 1, through: 0, by: -1) {
            ThreadPool.shared.parallelFor(b, grain: rowGrain(g4)) { rows in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: h) { buffer in
                    let dci = buffer.baseAddress!
                    for r in rows {
                        let row = r * t + step, up = ds + row * h2, tanhC = tp + row * h
                        let cPrev = step == 0 ? UnsafePointer(c0.ptr + r * h) : UnsafePointer(sp + (row - 1) * h2 + h)
                        // The activated gates on entry, their gradients on exit.
                        let (i, f, g, o) = (dg + row * g4, dg + row * g4 + h, dg + row * g4 + 2 * h, dg + row * g4 + 3 * h)
                        let dhr = dh + r * h, dcr = dc + r * h
                        // Short loops over few arrays each, indexed by j alone (an offset such as h + j
                        // brings overflow checks), so that they vectorise (as in forward). A gate is
                        // overwritten only after the last formula that reads it.
                        for j in 0..<h { dhr[j] += up[j] }                                             // dL/dh_t
                        let upC = up + h
                        for j in 0..<h { dcr[j] += upC[j] + dhr[j] * o[j] * (1 - tanhC[j] * tanhC[j]) }    // dL/dc_t
                        for j in 0..<h { o[j] = dhr[j] * tanhC[j] * o[j] * (1 - o[j]) }                // o
                        for j in 0..<h { dci[j] = dcr[j] * i[j] }
                        for j in 0..<h { i[j] = dci[j] * g[j] * (1 - i[j]) }                           // i
                        for j in 0..<h { g[j] = dci[j] * (1 - g[j] * g[j]) }                           // g
                        for j in 0..<h { dcr[j] *= f[j] }                                              // dL/dc_{t-1}
                        // f: dL/dc_t·c_{t-1}·f(1-f), where dcr now holds dL/dc_t·f.
                        for j in 0..<h { f[j] = dcr[j] * cPrev[j] * (1 - f[j]) }
                    }
                }
            }
            // dh_{t-1} = dGates_t · W_hh: (B, 4H) · (4H, H).
            GEMM.sgemm(transA: false, m: b, a: dg + step * g4, lda: t * g4, packedB: weight, c: dh, ldc: h)
        }
        // dW_hh = Σ_{b,t} dGates[b, t]ᵀ · h_{t-1}: one (4H, H) GEMM with K = B·T.
        let dWeight = NDArray(shape: [g4, h], zeroed: false)
        GEMM.sgemm(transA: true, transB: false, m: g4, n: h, k: b * t, a: dg, lda: g4, b: saved.previousH.ptr, ldb: h,
                   c: dWeight.ptr, ldc: h)
        let dBias = Reduce.columnSums(dGates.reshaped([b * t, g4]))
        return (dGates, dWeight, dBias, dhNext, dcNext)
    }

    /// Batch rows per thread for the per-step gate math: about 8K gate values, so that a
    /// small batch or width stays on the calling thread.
    static func rowGrain(_ gates: Int) -> Int { max(1, 8192 / max(gates, 1)) }
}
