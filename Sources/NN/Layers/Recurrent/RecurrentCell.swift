import Autograd

/// One layer of a recurrent network: a step from (x_t, state) to the next state, with
/// PyTorch's parameter names and layout (`weightIH` (G·H, I), `weightHH` (G·H, H), biases
/// (G·H), G gates), all initialised U(-1/√H, 1/√H) as PyTorch does.
public protocol RecurrentCell: Module {
    /// Hidden width H.
    var hiddenSize: Int { get }
    /// Tensors of the state (h for RNN and GRU; h and c for LSTM), each (B, H).
    var stateCount: Int { get }
    var weightIH: Tensor { get }
    var biasIH: Tensor { get }
    /// One time step.
    /// - Parameters:
    ///   - projected: x_t · W_ihᵀ + b_ih, (B, G·H), computed for all steps in one GEMM.
    ///   - state: the previous state, `stateCount` tensors of (B, H).
    /// - Returns: the new state; its first tensor is the output h_t.
    func step(projected: Tensor, state: [Tensor]) -> [Tensor]
}

extension RecurrentCell {
    /// W_ih (G·H, I), W_hh (G·H, H), b_ih, b_hh (G·H), each U(-1/√H, 1/√H) as torch.nn.RNN,
    /// LSTM and GRU initialise them.
    static func parameters(gates: Int, input: Int, hidden: Int) -> (Tensor, Tensor, Tensor, Tensor) {
        let bound = 1 / Float(hidden).squareRoot()
        func uniform(_ shape: Shape) -> Tensor {
            Tensor(Init.uniform(shape, low: -bound, high: bound), requiresGrad: true)
        }
        return (
            uniform([gates * hidden, input]), uniform([gates * hidden, hidden]), uniform([gates * hidden]),
            uniform([gates * hidden])
        )
    }

    /// The hidden width of given parameters, after checking that they fit `gates` gates.
    static func hiddenWidth(gates: Int, weightIH: Tensor, weightHH: Tensor) -> Int {
        precondition(
            weightIH.shape[0] == gates * weightHH.shape[1] && weightHH.shape[0] == weightIH.shape[0],
            "\(Self.self): weights \(weightIH.shape) and \(weightHH.shape) do not fit \(gates) gates")
        return weightHH.shape[1]
    }
}

/// Elman RNN cell: h' = tanh(W_ih·x + b_ih + W_hh·h + b_hh).
public final class RNNCell: RecurrentCell {
    public var training = true
    public let weightIH: Tensor, weightHH: Tensor, biasIH: Tensor, biasHH: Tensor
    public let hiddenSize: Int
    public var stateCount: Int { 1 }

    /// A cell with the given parameters (PyTorch's shapes), e.g. loaded or under test.
    public init(weightIH: Tensor, weightHH: Tensor, biasIH: Tensor, biasHH: Tensor) {
        hiddenSize = Self.hiddenWidth(gates: 1, weightIH: weightIH, weightHH: weightHH)
        (self.weightIH, self.weightHH, self.biasIH, self.biasHH) = (weightIH, weightHH, biasIH, biasHH)
    }

    public init(_ inputSize: Int, _ hiddenSize: Int) {
        self.hiddenSize = hiddenSize
        (weightIH, weightHH, biasIH, biasHH) = Self.parameters(gates: 1, input: inputSize, hidden: hiddenSize)
    }

    public func step(projected: Tensor, state: [Tensor]) -> [Tensor] {
        [(projected + linear(state[0], weight: weightHH, bias: biasHH)).tanh()]
    }
}

/// LSTM cell (Hochreiter and Schmidhuber; PyTorch's gate order i, f, g, o):
/// c' = σ(f)·c + σ(i)·tanh(g), h' = σ(o)·tanh(c').
public final class LSTMCell: RecurrentCell {
    public var training = true
    public let weightIH: Tensor, weightHH: Tensor, biasIH: Tensor, biasHH: Tensor
    public let hiddenSize: Int
    public var stateCount: Int { 2 }

    /// A cell with the given parameters (PyTorch's shapes), e.g. loaded or under test.
    public init(weightIH: Tensor, weightHH: Tensor, biasIH: Tensor, biasHH: Tensor) {
        hiddenSize = Self.hiddenWidth(gates: 4, weightIH: weightIH, weightHH: weightHH)
        (self.weightIH, self.weightHH, self.biasIH, self.biasHH) = (weightIH, weightHH, biasIH, biasHH)
    }

    /// - Parameters:
    ///   - inputSize: I, the features of each step's input.
    ///   - hiddenSize: H, the width of the state.
    ///   - forgetBias: added to the forget gate's bias (b_ih), so the cell starts by
    ///     keeping its memory (Gers et al. 2000, Jozefowicz et al. 2015); 0 is PyTorch's init.
    public init(_ inputSize: Int, _ hiddenSize: Int, forgetBias: Float = 0) {
        self.hiddenSize = hiddenSize
        (weightIH, weightHH, biasIH, biasHH) = Self.parameters(gates: 4, input: inputSize, hidden: hiddenSize)
        for k in hiddenSize..<(2 * hiddenSize) { biasIH.data.ptr[k] += forgetBias }
    }

    public func step(projected: Tensor, state: [Tensor]) -> [Tensor] {
        let gates = projected + linear(state[0], weight: weightHH, bias: biasHH)  // (B, 4H)
        let g = gates.split(sizes: [hiddenSize, hiddenSize, hiddenSize, hiddenSize], axis: 1)
        let c = g[1].sigmoid() * state[1] + g[0].sigmoid() * g[2].tanh()
        return [g[3].sigmoid() * c.tanh(), c]
    }
}

/// GRU cell (Cho et al.; PyTorch's form, gate order r, z, n):
/// r = σ(·), z = σ(·), n = tanh(W_in·x + b_in + r·(W_hn·h + b_hn)), h' = (1 - z)·n + z·h.
public final class GRUCell: RecurrentCell {
    public var training = true
    public let weightIH: Tensor, weightHH: Tensor, biasIH: Tensor, biasHH: Tensor
    public let hiddenSize: Int
    public var stateCount: Int { 1 }

    /// A cell with the given parameters (PyTorch's shapes), e.g. loaded or under test.
    public init(weightIH: Tensor, weightHH: Tensor, biasIH: Tensor, biasHH: Tensor) {
        hiddenSize = Self.hiddenWidth(gates: 3, weightIH: weightIH, weightHH: weightHH)
        (self.weightIH, self.weightHH, self.biasIH, self.biasHH) = (weightIH, weightHH, biasIH, biasHH)
    }

    /// - Parameters:
    ///   - inputSize: I, the features of each step's input.
    ///   - hiddenSize: H, the width of the state.
    ///   - updateBias: added to the update gate's bias (b_ih of z), so the cell starts
    ///     by keeping its state, as an LSTM's forget-gate bias does; 0 is PyTorch's init.
    public init(_ inputSize: Int, _ hiddenSize: Int, updateBias: Float = 0) {
        self.hiddenSize = hiddenSize
        (weightIH, weightHH, biasIH, biasHH) = Self.parameters(gates: 3, input: inputSize, hidden: hiddenSize)
        for k in hiddenSize..<(2 * hiddenSize) { biasIH.data.ptr[k] += updateBias }
    }

    public func step(projected: Tensor, state: [Tensor]) -> [Tensor] {
        let h = state[0], sizes = [hiddenSize, hiddenSize, hiddenSize]
        let xi = projected.split(sizes: sizes, axis: 1)
        let hh = linear(h, weight: weightHH, bias: biasHH).split(sizes: sizes, axis: 1)
        let r = (xi[0] + hh[0]).sigmoid(), z = (xi[1] + hh[1]).sigmoid()
        let n = (xi[2] + r * hh[2]).tanh()
        return [(1 - z) * n + z * h]
    }
}
