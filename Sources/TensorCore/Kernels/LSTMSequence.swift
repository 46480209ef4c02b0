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
///
/// Under autocast the projected input is 16-bit, and so is everything the kernel stores: the
/// states it returns and what backward reads (a third of the char LSTM's activations in
/// fp32). The recurrence itself stays fp32: each step's gates, h and c, and backward's dh and
/// dc, live in fp32 buffers of one step and are rounded only as they are stored.
public enum LSTMSequence {
    /// What backward needs from forward, in the projected input's type.
    public struct Saved {
        /// Activated gates [σ(i), σ(f), tanh(g), σ(o)], (B, T, 4H).
        public let gates: NDArray
        /// h_{t-1} for every (b, t), h0 at t = 0: (B·T, H).
        public let previousH: NDArray
        /// tanh(c_t), (B, T, H): backward needs it, and tanh is a third of the gate math's time.
        public let tanhC: NDArray

        public init(gates: NDArray, previousH: NDArray, tanhC: NDArray) {
            (self.gates, self.previousH, self.tanhC) = (gates, previousH, tanhC)
        }
    }

    /// Shapes: projected (B, T, 4H), weightHH (4H, H), biasHH (4H), h0 and c0 (B, H) ->
    /// states (B, T, 2H), each step's [h_t ‖ c_t], in projected's type.
    /// - Parameters:
    ///   - projected: float32, float16 or bfloat16.
    ///   - weightHH: (4H, H) float32.
    ///   - biasHH: (4H) float32.
    ///   - h0: the initial hidden state (B, H) float32.
    ///   - c0: the initial cell state (B, H) float32.
    public static func forward(projected: NDArray, weightHH: NDArray, biasHH: NDArray, h0: NDArray, c0: NDArray)
        -> (states: NDArray, saved: Saved)
    {
        let (b, t, g4) = (projected.shape[0], projected.shape[1], projected.shape[2])
        let h = g4 / 4, type = projected.dtype, half = projected.isHalf
        precondition(
            g4 == 4 * h && weightHH.shape == [g4, h] && biasHH.count == g4 && h0.shape == [b, h] && c0.shape == [b, h],
            "LSTM shapes: projected \(projected.shape), W_hh \(weightHH.shape), b_hh \(biasHH.shape), h0 \(h0.shape), c0 \(c0.shape)"
        )
        let gates = NDArray(shape: [b, t, g4], dtype: type, zeroed: false)
        let states = NDArray(shape: [b, t, 2 * h], dtype: type, zeroed: false)
        let previousH = NDArray(shape: [b * t, h], dtype: type, zeroed: false),
            tanhC = NDArray(shape: [b, t, h], dtype: type, zeroed: false)
        // fp32 rows: in the stored arrays for fp32; for 16 bits, one step's gates and tanh(c)
        // and two steps' [h ‖ c] (the previous one feeds this one), rounded into the arrays.
        let work = Rows(stored: gates, steps: t, width: g4), cells = Rows(stored: tanhC, steps: t, width: h)
        let state = Rows(stored: states, steps: t, width: 2 * h, buffers: 2)
        let bias = biasHH.ptr
        // Row r's gates at `step` start as projected + b_hh just before the GEMM adds to them
        // (still in cache; one pass over all steps first went through memory), and h_{t-1} is
        // kept for backward's dW_hh.
        func prepare(_ r: Int, _ step: Int, hPrevious: UnsafePointer<Float>) {
            let gate = work.row(r, step), offset = (r * t + step) * g4
            if half {
                HalfCast.widenBlock(projected.halfBits + offset, gate, g4, type)
                for j in 0..<g4 { gate[j] += bias[j] }
            } else {
                let input = projected.ptr + offset
                for j in 0..<g4 { gate[j] = input[j] + bias[j] }
            }
            store(hPrevious, h, into: previousH, at: (r * t + step) * h)
        }
        for r in 0..<b { prepare(r, 0, hPrevious: h0.ptr + r * h) }
        // W_hhᵀ is packed once for all T steps (each step's product would repack all of it).
        let weight = GEMMPackedB(transB: true, k: h, n: g4, b: GEMMOperand(weightHH.ptr, ld: h))
        for step in 0..<t {
            // h_{t-1}: h0, or the h half of the previous step's states.
            let (hPrev, hStride) =
                step == 0 ? (UnsafePointer(h0.ptr), h) : (UnsafePointer(state.row(0, step - 1)), state.stride)
            GEMM.sgemm(
                transA: false, m: b, a: hPrev, lda: hStride, packedB: weight, beta: 1, c: work.row(0, step),
                ldc: work.stride)
            // Rows are independent: the threads split them (the char LSTM on 2 threads: 35.0 ->
            // 31.8 ms per step, where this loop ran on one of them).
            ThreadPool.shared.parallelFor(b, grain: rowGrain(g4)) { rows in
                for r in rows {
                    let gate = work.row(r, step), out = state.row(r, step), tc = cells.row(r, step)
                    let cPrev = step == 0 ? UnsafePointer(c0.ptr + r * h) : UnsafePointer(state.row(r, step - 1) + h)
                    // One short loop per formula, each touching few arrays: a single loop over all
                    // of them kept the vectoriser out (too many pointers that might overlap), and ran
                    // scalar at a fifth of the LSTM step.
                    let (i, f, g, o, c) = (gate, gate + h, gate + 2 * h, gate + 3 * h, out + h)
                    for j in 0..<(2 * h) { i[j] = FastMath.sigmoid(i[j]) }  // i, f
                    for j in 0..<h { g[j] = FastMath.tanh(g[j]) }  // g
                    for j in 0..<h { o[j] = FastMath.sigmoid(o[j]) }  // o
                    for j in 0..<h { c[j] = f[j] * cPrev[j] + i[j] * g[j] }  // c_t
                    for j in 0..<h { tc[j] = FastMath.tanh(c[j]) }
                    for j in 0..<h { out[j] = o[j] * tc[j] }  // h_t
                    work.round(r, step); cells.round(r, step); state.round(r, step)
                    if step + 1 < t { prepare(r, step + 1, hPrevious: out) }
                }
            }
        }
        return (states, Saved(gates: gates, previousH: previousH, tanhC: tanhC))
    }

    /// Gradients of `forward` from dStates (B, T, 2H): (dProjected (B, T, 4H) in the saved
    /// gates' type, dWeightHH (4H, H), dBiasHH (4H), dh0 (B, H), dc0 (B, H)).
    /// - Parameters:
    ///   - dStates: any float type.
    ///   - saved: what `forward` returned as `saved`.
    ///   - states: what `forward` returned as `states`.
    ///   - weightHH: the forward's weightHH.
    ///   - c0: the forward's c0.
    ///   - overwritingSaved: write the gate gradients over `saved.gates` (nothing may read
    ///     `saved` afterwards); otherwise they go to a copy.
    public static func backward(
        _ dStates: NDArray, saved: Saved, states: NDArray, weightHH: NDArray, c0: NDArray,
        overwritingSaved: Bool
    )
        -> (projected: NDArray, weightHH: NDArray, biasHH: NDArray, h0: NDArray, c0: NDArray)
    {
        let (b, t, h2) = (states.shape[0], states.shape[1], states.shape[2])
        let h = h2 / 2, g4 = 4 * h
        // Each gate's gradient replaces the gate in place, so that backward's biggest array is
        // not a second (B, T, 4H) beside the saved one. 16-bit gates are widened a step at a
        // time into fp32 rows, which the recurrence's dh product reads before they are rounded.
        let dGates = overwritingSaved ? saved.gates : saved.gates.copy()
        let work = Rows(stored: dGates, steps: t, width: g4)
        let dhNext = NDArray(shape: [b, h]), dcNext = NDArray(shape: [b, h])
        let dh = dhNext.ptr, dc = dcNext.ptr
        let weight = GEMMPackedB(transB: false, k: g4, n: h, b: GEMMOperand(weightHH.ptr, ld: h))  // once for all steps
        for step in stride(from: t - 1, through: 0, by: -1) {
            ThreadPool.shared.parallelFor(b, grain: rowGrain(g4)) { rows in
                // dL/d[h ‖ c] of the step (fp32 when stored so), tanh(c_t) and c_{t-1}, widened
                // when 16-bit, and dL/dc_t·σ(i).
                withUnsafeTemporaryAllocation(of: Float.self, capacity: 5 * h) { buffer in
                    let scratch = buffer.baseAddress!, dci = scratch + 4 * h
                    for r in rows {
                        let row = r * t + step
                        let up = load(dStates, row * h2, h2, into: scratch),
                            tanhC = load(saved.tanhC, row * h, h, into: scratch + 2 * h)
                        let cPrev =
                            step == 0
                            ? UnsafePointer(c0.ptr + r * h)
                            : UnsafePointer(load(states, (row - 1) * h2 + h, h, into: scratch + 3 * h))
                        // The activated gates on entry, their gradients on exit.
                        let gate = work.load(r, step)
                        let (i, f, g, o) = (gate, gate + h, gate + 2 * h, gate + 3 * h)
                        let dhr = dh + r * h, dcr = dc + r * h
                        // Short loops over few arrays each, indexed by j alone (an offset such as h + j
                        // brings overflow checks), so that they vectorise (as in forward). A gate is
                        // overwritten only after the last formula that reads it.
                        for j in 0..<h { dhr[j] += up[j] }  // dL/dh_t
                        let upC = up + h
                        for j in 0..<h { dcr[j] += upC[j] + dhr[j] * o[j] * (1 - tanhC[j] * tanhC[j]) }  // dL/dc_t
                        for j in 0..<h { o[j] = dhr[j] * tanhC[j] * o[j] * (1 - o[j]) }  // o
                        for j in 0..<h { dci[j] = dcr[j] * i[j] }
                        for j in 0..<h { i[j] = dci[j] * g[j] * (1 - i[j]) }  // i
                        for j in 0..<h { g[j] = dci[j] * (1 - g[j] * g[j]) }  // g
                        for j in 0..<h { dcr[j] *= f[j] }  // dL/dc_{t-1}
                        // f: dL/dc_t·c_{t-1}·f(1-f), where dcr now holds dL/dc_t·f.
                        for j in 0..<h { f[j] = dcr[j] * cPrev[j] * (1 - f[j]) }
                    }
                }
            }
            // dh_{t-1} = dGates_t · W_hh: (B, 4H) · (4H, H), from the fp32 rows; then they are stored.
            GEMM.sgemm(transA: false, m: b, a: work.row(0, step), lda: work.stride, packedB: weight, c: dh, ldc: h)
            if work.buffered {
                ThreadPool.shared.parallelFor(b, grain: rowGrain(g4)) { rows in for r in rows { work.round(r, step) } }
            }
        }
        // dW_hh = Σ_{b,t} dGates[b, t]ᵀ · h_{t-1}: one (4H, H) GEMM with K = B·T.
        let dWeight = NDArray(shape: [g4, h], zeroed: false)
        GEMM.gemm(
            transA: true, transB: false, m: g4, n: h, k: b * t, a: operand(dGates, ld: g4),
            b: operand(saved.previousH, ld: h),
            c: dWeight.ptr, ldc: h)
        let dBias = Reduce.columnSums(dGates.reshaped([b * t, g4]))
        return (dGates, dWeight, dBias, dhNext, dcNext)
    }

    /// Rows of width `width` of a (B, T, width) array as fp32: the array's own rows when it is
    /// fp32; for 16 bits, `buffers` steps' worth of fp32 rows (B x width each, used in turn),
    /// which `load` fills from the array and `round` stores into it.
    struct Rows {
        let stored: NDArray, steps: Int, width: Int, buffers: Int
        let fp32: NDArray?

        init(stored: NDArray, steps: Int, width: Int, buffers: Int = 1) {
            (self.stored, self.steps, self.width, self.buffers) = (stored, steps, width, buffers)
            fp32 = stored.isHalf ? NDArray(shape: [buffers, stored.shape[0], width], zeroed: false) : nil
        }

        /// Whether the rows are fp32 buffers in front of a 16-bit array.
        var buffered: Bool { fp32 != nil }

        /// Elements between one batch row and the next in `row`'s memory.
        var stride: Int { fp32 == nil ? steps * width : width }

        /// Row r of `step`.
        func row(_ r: Int, _ step: Int) -> UnsafeMutablePointer<Float> {
            guard let fp32 else { return stored.ptr + (r * steps + step) * width }
            return fp32.ptr + ((step % buffers) * stored.shape[0] + r) * width
        }

        /// Row r of `step`, widened from the 16-bit array first.
        func load(_ r: Int, _ step: Int) -> UnsafeMutablePointer<Float> {
            let out = row(r, step)
            if buffered { HalfCast.widenBlock(stored.halfBits + (r * steps + step) * width, out, width, stored.dtype) }
            return out
        }

        /// Rounds row r of `step` into the 16-bit array; nothing for fp32.
        func round(_ r: Int, _ step: Int) {
            guard let fp32 else { return }
            HalfCast.narrowBlock(
                fp32.ptr + ((step % buffers) * stored.shape[0] + r) * width,
                stored.halfBits + (r * steps + step) * width, width, stored.dtype)
        }
    }

    /// `count` values of `array` from `offset` as fp32: in place, or widened into `scratch`.
    static func load(_ array: NDArray, _ offset: Int, _ count: Int, into scratch: UnsafeMutablePointer<Float>)
        -> UnsafeMutablePointer<Float>
    {
        guard array.isHalf else { return array.ptr + offset }
        HalfCast.widenBlock(array.halfBits + offset, scratch, count, array.dtype)
        return scratch
    }

    /// Copies (or rounds) `count` fp32 values into `array` at `offset`.
    static func store(_ values: UnsafePointer<Float>, _ count: Int, into array: NDArray, at offset: Int) {
        if array.isHalf {
            HalfCast.narrowBlock(values, array.halfBits + offset, count, array.dtype)
        } else {
            (array.ptr + offset).update(from: values, count: count)
        }
    }

    /// An array as a GEMM operand of its own type.
    static func operand(_ array: NDArray, ld: Int) -> GEMMOperand {
        GEMMOperand(raw: UnsafeRawPointer(array.storage.raw), dtype: array.dtype, ld: ld)
    }

    /// Batch rows per thread for the per-step gate math: about 8K gate values, so that a
    /// small batch or width stays on the calling thread.
    static func rowGrain(_ gates: Int) -> Int { max(1, 8192 / max(gates, 1)) }
}
