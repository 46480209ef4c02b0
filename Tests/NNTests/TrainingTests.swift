import Autograd
import NN
import Testing

/// Plain SGD over the flat arenas: the one-line update the tests need (optimizers are `Optim`'s).
func sgdStep(_ arena: ParameterArena, lr: Float) {
    let v = arena.values.ptr, g = arena.grads.ptr
    for i in 0..<arena.capacity { v[i] -= lr * g[i] }
}

/// Full-batch training with cross-entropy and plain SGD.
func train(_ model: any Layer, _ arena: ParameterArena, _ x: Tensor, _ y: NDArray, steps: Int, lr: Float) {
    for _ in 0..<steps {
        arena.zeroGrad()
        Loss.crossEntropy(model(x), y).backward()
        sgdStep(arena, lr: lr)
    }
}

func accuracy(_ logits: Tensor, _ labels: [Int32]) -> Double {
    let pred = logits.argmax(axis: 1).indices
    return Double(zip(pred, labels).filter { $0 == $1 }.count) / Double(labels.count)
}

@Suite("Small networks learn", .serialized)
struct TrainingTests {
    @Test func mlpSolvesXor() {
        Init.seed(1)
        let model = Sequential(Linear(2, 8), ActivationLayer(.tanh), Linear(8, 2))
        let arena = model.flattenParameters()
        let x = Tensor([0, 0, 0, 1, 1, 0, 1, 1], shape: [4, 2])
        let labels: [Int32] = [0, 1, 1, 0]
        let y = NDArray(indices: labels, shape: [4])
        var loss: Float = .infinity
        for _ in 0..<500 {
            arena.zeroGrad()
            let l = Loss.crossEntropy(model(x), y)
            l.backward()
            sgdStep(arena, lr: 0.5)
            loss = l.item
        }
        #expect(loss < 0.05, "XOR loss \(loss)")
        #expect(accuracy(withNoGrad { model(x) }, labels) == 1)
    }

    @Test func mlpSeparatesTwoClusters() {
        Init.seed(2)
        // Two Gaussian clusters in 10-D, 3 standard deviations apart, 200 points.
        var rng = PhiloxRNG(seed: 5)
        let n = 200, d = 10
        let x = NDArray(shape: [n, d], zeroed: false)
        rng.fillNormal(x.ptr, n * d)
        var labels: [Int32] = []
        for i in 0..<n {
            let c = Int32(i % 2)
            labels.append(c)
            for j in 0..<d { x.ptr[i * d + j] += (c == 0 ? -1.5 : 1.5) / Float(d).squareRoot() * 3 }
        }
        let model = Sequential(Linear(d, 16), ActivationLayer(.relu), Dropout(0.1), Linear(16, 2))
        let arena = model.flattenParameters()
        let input = Tensor(x), y = NDArray(indices: labels, shape: [n])
        train(model, arena, input, y, steps: 150, lr: 0.1)
        model.eval()
        #expect(accuracy(withNoGrad { model(input) }, labels) == 1)
    }

    @Test func smallCNNLearnsOrientation() {
        Init.seed(3)
        // 8x8 images holding a horizontal or a vertical bar: conv, batch norm, pooling, linear.
        var images: [Float] = [], labels: [Int32] = []
        for i in 0..<32 {
            let vertical = i % 2 == 1, pos = 1 + (i / 2) % 6
            for r in 0..<8 { for c in 0..<8 { images.append((vertical ? c : r) == pos ? 1 : 0) } }
            labels.append(vertical ? 1 : 0)
        }
        let model = Sequential(
            Conv2d(1, 4, kernel: 3, padding: 1), BatchNorm(4), ActivationLayer(.relu),
            MaxPool2d(kernel: 2), Conv2d(4, 4, kernel: 3, padding: 1, groups: 4),
            GlobalAvgPool2d(), Linear(4, 2))
        let arena = model.flattenParameters()
        let x = Tensor(images, shape: [32, 1, 8, 8]), y = NDArray(indices: labels, shape: [32])
        train(model, arena, x, y, steps: 200, lr: 0.1)
        model.eval()
        #expect(accuracy(withNoGrad { model(x) }, labels) == 1)
    }
}
