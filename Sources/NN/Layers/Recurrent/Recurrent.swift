import Autograd

/// A stack of recurrent layers over batch-first sequences (torch.nn.RNN, LSTM and GRU with
/// `batch_first=True`), unrolled on the tape so gradients flow back through time. Its tensors
/// are saved under `nn.LSTM`'s names: `weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`, l1...
public final class Recurrent: Module, TensorNaming {
    public enum Kind: String, Sendable { case rnn, lstm, gru }

    public var training = true
    public let kind: Kind
    public let layers: [any RecurrentCell]
    /// Per layer index, int8 calibration or inference of its input projection x·W_ihᵀ + b_ih.
    public var int8Projections: [Int: Int8Mode] = [:]

    /// - Parameters:
    ///   - kind: rnn (tanh), lstm or gru.
    ///   - inputSize: I, the features of each step's input.
    ///   - hiddenSize: H, the width of the state.
    ///   - layers: stacked layers; each layer's outputs are the next one's inputs.
    ///   - forgetBias: added to the bias of the gate that keeps the state: the LSTM's forget gate,
    ///     the GRU's update gate (0: PyTorch's initialisation; ignored by the plain RNN).
    public init(_ kind: Kind, inputSize: Int, hiddenSize: Int, layers: Int = 1, forgetBias: Float = 0) {
        precondition(layers >= 1, "a recurrent network needs at least one layer")
        self.kind = kind
        self.layers = (0..<layers).map { l in
            let i = l == 0 ? inputSize : hiddenSize
            switch kind {
            case .rnn: return RNNCell(i, hiddenSize) as any RecurrentCell
            case .lstm: return LSTMCell(i, hiddenSize, forgetBias: forgetBias)
            case .gru: return GRUCell(i, hiddenSize, updateBias: forgetBias)
            }
        }
    }

    /// A stack of the given cells (their parameters already made).
    public init(_ kind: Kind, cells: [any RecurrentCell]) {
        precondition(!cells.isEmpty, "a recurrent network needs at least one layer")
        (self.kind, layers) = (kind, cells)
    }

    public func exportedName(of name: String) -> String { Self.torchName(of: name) }

    /// PyTorch's name for a cell's tensor: `layers.2.weightIH` is `weight_ih_l2`; other names are kept.
    public static func torchName(of name: String) -> String {
        let parts = name.split(separator: ".")
        guard parts.count == 3, parts[0] == "layers", let layer = Int(parts[1]),
            let stem = cellTensorNames[String(parts[2])]
        else { return name }
        return "\(stem)_l\(layer)"
    }

    /// A cell's Swift property names and PyTorch's stems for them.
    static let cellTensorNames = [
        "weightIH": "weight_ih", "weightHH": "weight_hh", "biasIH": "bias_ih", "biasHH": "bias_hh",
    ]

    /// Runs the sequence through every layer.
    /// - Parameters:
    ///   - x: (B, T, I).
    ///   - initial: per layer, its initial state (h, or h and c for LSTM), each (B, H); zeros when nil.
    /// - Returns: the last layer's outputs (B, T, H) and every layer's final state.
    public func callAsFunction(_ x: Tensor, initial: [[Tensor]]? = nil) -> (output: Tensor, final: [[Tensor]]) {
        precondition(x.rank == 3, "recurrent input must be (B, T, I), got \(x.shape)")
        return run(firstProjected: project(x, layer: 0), initial: initial)
    }

    /// Runs token ids through an embedding, then through every layer.
    ///
    /// When the vocabulary has fewer rows than the batch has tokens, the first layer's input
    /// projection is applied to the embedding table, and the tokens look up its rows:
    /// (V, I)·W_ihᵀ costs V rows where embedding first costs B·T, and its backward scatters the
    /// gates' gradient into V rows before two small GEMMs. The same sums, reassociated. For
    /// the char-level LSTM (V = 65, B·T = 2048) that is a third of the step's FLOPs.
    /// - Parameters:
    ///   - tokens: int32 ids (B, T).
    ///   - table: the embedding, (V, I).
    ///   - initial: as for a sequence of vectors.
    public func callAsFunction(tokens: NDArray, embeddedBy table: Embedding, initial: [[Tensor]]? = nil)
        -> (output: Tensor, final: [[Tensor]])
    {
        precondition(tokens.rank == 2, "token ids must be (B, T), got \(tokens.shape)")
        guard table.weight.shape[0] < tokens.count else { return self(table(tokens), initial: initial) }
        let projectedTable = project(table.weight, layer: 0)  // (V, G·H)
        return run(firstProjected: embedding(projectedTable, ids: tokens), initial: initial)  // (B, T, G·H)
    }

    /// x_t · W_ihᵀ + b_ih for every step in one GEMM: (B, T, I) -> (B, T, G·H), or (V, I) -> (V, G·H).
    func project(_ x: Tensor, layer l: Int) -> Tensor {
        let cell = layers[l], rows = x.shape.dims.dropLast().reduce(1, *)
        let flat = x.reshaped([rows, x.shape[x.rank - 1]])
        let y =
            int8Projections[l]?.applyLinear(flat, weight: cell.weightIH, bias: cell.biasIH)
            ?? linear(flat, weight: cell.weightIH, bias: cell.biasIH)
        return y.reshaped(Array(x.shape.dims.dropLast()) + [-1])
    }

    /// The recurrence of every layer, given the first layer's projected input (B, T, G·H).
    func run(firstProjected: Tensor, initial: [[Tensor]]?) -> (output: Tensor, final: [[Tensor]]) {
        let result = unroll(firstProjected: firstProjected, initial: initial)
        _ = ShapeTrace.note(self, result.output)
        return result
    }

    /// `run` without the shape note.
    func unroll(firstProjected: Tensor, initial: [[Tensor]]?) -> (output: Tensor, final: [[Tensor]]) {
        let (b, t) = (firstProjected.shape[0], firstProjected.shape[1])
        var input = firstProjected, finals: [[Tensor]] = []  // input: the previous layer's outputs
        for (l, cell) in layers.enumerated() {
            let h = cell.hiddenSize
            var state = initial?[l] ?? (0..<cell.stateCount).map { _ in Tensor(NDArray(shape: [b, h])) }
            let projected = l == 0 ? firstProjected : project(input, layer: l)
            if let lstm = cell as? LSTMCell {
                // The whole recurrence as one op: the gate math fused, dW_hh one GEMM over B·T.
                let states = lstmSequence(
                    projected: projected, weightHH: lstm.weightHH, biasHH: lstm.biasHH, h0: state[0], c0: state[1])
                let last = states.slice(axis: 1, start: t - 1, end: t).reshaped([b, 2 * h])  // (B, 2H)
                input = states.slice(axis: 2, start: 0, end: h)  // (B, T, H)
                finals.append([last.slice(axis: 1, start: 0, end: h), last.slice(axis: 1, start: h, end: 2 * h)])
                continue
            }
            var outputs: [Tensor] = []
            for step in 0..<t {
                state = cell.step(
                    projected: projected.slice(axis: 1, start: step, end: step + 1).reshaped([b, -1]), state: state)
                outputs.append(state[0].reshaped([b, 1, h]))
            }
            input = concat(outputs, axis: 1)
            finals.append(state)
        }
        return (input, finals)
    }
}
