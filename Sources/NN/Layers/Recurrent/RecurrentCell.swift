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
    /// U(-1/√H, 1/√H), as torch.nn.RNN, LSTM and GRU initialise every weight and bias.
    static func uniformParameter(_ shape: Shape, hidden: Int) -> Tensor {
        let bound = 1 / Float(hidden).squareRoot()
        return Tensor(Init.uniform(shape, low: -bound, high: bound), requiresGrad: true)
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
        precondition(weightIH.shape[0] == 1 * weightHH.shape[1] && weightHH.shape[0] == weightIH.shape[0],
                     "RNNCell: weights \(weightIH.shape) and \(weightHH.shape) do not fit 1 gates")
        hiddenSize = weightHH.shape[1]
        (self.weightIH, self.weightHH, self.biasIH, self.biasHH) = (weightIH, weightHH, biasIH, biasHH)
    }

    public init(_ inputSize: Int, _ hiddenSize: Int) {
        self.hiddenSize = hiddenSize
        weightIH = Self.uniformParameter([hiddenSize, inputSize], hidden: hiddenSize)
        weightHH = Self.uniformParameter([hiddenSize, hiddenSize], hidden: hiddenSize)
        biasIH = Self.uniformParameter([hiddenSize], hidden: hiddenSize)
        biasHH = Self.uniformParameter([hiddenSize], hidden: hiddenSize)
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
        precondition(weightIH.shape[0] == 4 * weightHH.shape[1] && weightHH.shape[0] == weightIH.shape[0],
                     "LSTMCell: weights \(weightIH.shape) and \(weightHH.shape) do not fit 4 gates")
        hiddenSize = weightHH.shape[1]
        (self.weightIH, self.weightHH, self.biasIH, self.biasHH) = (weightIH, weightHH, biasIH, biasHH)
    }

    /// - Parameter forgetBias: added to the forget gate's bias (b_ih), so the cell starts by
    ///   keeping its memory (Gers et al. 2000, Jozefowicz et al. 2015); 0 is PyTorch's init.
    public init(_ inputSize: Int, _ hiddenSize: Int, forgetBias: Float = 0) {
        self.hiddenSize = hiddenSize
        weightIH = Self.uniformParameter([4 * hiddenSize, inputSize], hidden: hiddenSize)
        weightHH = Self.uniformParameter([4 * hiddenSize, hiddenSize], hidden: hiddenSize)
        biasIH = Self.uniformParameter([4 * hiddenSize], hidden: hiddenSize)
        biasHH = Self.uniformParameter([4 * hiddenSize], hidden: hiddenSize)
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
        precondition(weightIH.shape[0] == 3 * weightHH.shape[1] && weightHH.shape[0] == weightIH.shape[0],
                     "GRUCell: weights \(weightIH.shape) and \(weightHH.shape) do not fit 3 gates")
        hiddenSize = weightHH.shape[1]
        (self.weightIH, self.weightHH, self.biasIH, self.biasHH) = (weightIH, weightHH, biasIH, biasHH)
    }

    public init(_ inputSize: Int, _ hiddenSize: Int) {
        self.hiddenSize = hiddenSize
        weightIH = Self.uniformParameter([3 * hiddenSize, inputSize], hidden: hiddenSize)
        weightHH = Self.uniformParameter([3 * hiddenSize, hiddenSize], hidden: hiddenSize)
        biasIH = Self.uniformParameter([3 * hiddenSize], hidden: hiddenSize)
        biasHH = Self.uniformParameter([3 * hiddenSize], hidden: hiddenSize)
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
