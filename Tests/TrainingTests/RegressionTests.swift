import Autograd
import Collective
import Datasets
import Models
import NN
import Optim
import TensorCore
import Testing

@testable import Training

/// Regression: the MLP head with linear outputs, its losses, and the evaluator's MAE, MSE, RMSE and R².
@Suite("Regression")
struct RegressionTests {
    /// In-memory samples with float targets (N, K): y = x·W + b for fixed W and b.
    final class LinearTargets: Dataset, @unchecked Sendable {
        let inputs: [Float], targets: [Float], features = 3, outputs = 2
        init(count: Int, seed: UInt64) {
            var rng = PhiloxRNG(seed: seed)
            var x = [Float](repeating: 0, count: count * 3)
            x.withUnsafeMutableBufferPointer { rng.fillUniform($0.baseAddress!, $0.count, low: -1, high: 1) }
            inputs = x
            targets = (0..<count).flatMap { i -> [Float] in
                let (a, b, c) = (x[3 * i], x[3 * i + 1], x[3 * i + 2])
                return [2 * a - b + 0.5, a + 3 * c - 1]
            }
        }
        var count: Int { inputs.count / features }
        var inputShape: Shape { [features] }
        var inputType: DType { .float32 }
        var classCount: Int { outputs }
        func batch(_ indices: ArraySlice<Int>) -> Batch {
            Batch(
                inputs: NDArray(indices.flatMap { inputs[3 * $0..<3 * $0 + 3] }, shape: [indices.count, features]),
                targets: NDArray(indices.flatMap { targets[2 * $0..<2 * $0 + 2] }, shape: [indices.count, outputs]))
        }
    }

    @Test(arguments: [RegressionLoss.mse, .mae, .huber(delta: 1)])
    func theMLPRegressorFitsALinearMap(loss: RegressionLoss) {
        Init.seed(3)
        let data = LinearTargets(count: 256, seed: 1)
        let model = MLPRegressor(inputs: 3, hiddenSizes: [32], outputs: 2, loss: loss)
        let arena = model.flattenParameters()
        let adam = Adam(arena, learningRate: 0.01)
        for step in 0..<400 {
            let b = data.batch(ArraySlice((step * 32..<step * 32 + 32).map { $0 % data.count }))
            let l = model.loss(inputs: b.inputs, targets: b.flatTargets, labelSmoothing: 0)
            arena.zeroGrad()
            l.backward()
            adam.step()
        }
        let m = Evaluator.evaluate(
            model, on: data, communicator: SingleProcessCommunicator(), batchSize: 64, topK: 5)
        let r = m.regression!
        #expect(!m.isClassification && m.samples == 256)
        #expect(r.r2 > 0.98 && r.rmse < 0.2, "\(loss): r2 \(r.r2), rmse \(r.rmse)")
        #expect(m.value(of: .r2) == r.r2 && m.value(of: .mae) == r.mae && m.value(of: .accuracy) == 0)
    }

    /// The evaluator's figures equal the definitions computed from the model's own predictions.
    @Test func evaluationMatchesTheDefinitions() {
        Init.seed(5)
        let data = LinearTargets(count: 50, seed: 2)
        let model = MLPRegressor(inputs: 3, hiddenSizes: [4], outputs: 2, loss: .huber(delta: 0.5))
        let m = Evaluator.evaluate(model, on: data, communicator: SingleProcessCommunicator(), batchSize: 16, topK: 5)
        let all = data.batch(ArraySlice(0..<50))
        let p: [Double] = withNoGrad { model.predictions(all.inputs).values.scalars }.map { Double($0) }
        let t: [Double] = all.targets.scalars.map { Double($0) }
        let errors: [Double] = zip(p, t).map { $0 - $1 }
        let mae = errors.map { Swift.abs($0) }.reduce(0, +) / 100, mse = errors.map { $0 * $0 }.reduce(0, +) / 100
        var r2 = 0.0
        for k in 0..<2 {
            let column = stride(from: k, to: 100, by: 2)
            let mean = column.map { t[$0] }.reduce(0, +) / 50
            let sse = column.map { errors[$0] * errors[$0] }.reduce(0, +)
            r2 += (1 - sse / column.map { (t[$0] - mean) * (t[$0] - mean) }.reduce(0, +)) / 2
        }
        func huberTerm(_ e: Double) -> Double { Swift.abs(e) <= 0.5 ? 0.5 * e * e : 0.5 * (Swift.abs(e) - 0.25) }
        let huber = errors.map(huberTerm).reduce(0, +) / 100
        let r = m.regression!
        #expect(Swift.abs(r.mae - mae) < 1e-5 && Swift.abs(r.mse - mse) < 1e-5 && Swift.abs(r.r2 - r2) < 1e-5)
        #expect(Swift.abs(m.loss - huber) < 1e-5, "loss \(m.loss) against Huber \(huber)")
        #expect(EvaluationPass.summary(m, split: "validation", position: "epoch 1").contains(", r2 "))
    }
}
