import Models
import NN
import ONNX
import Testing

/// Models declared as a list of layers (`model.name: sequential`) against onnxruntime: every
/// layer a config can name.
@Suite("ONNX export: sequential models against onnxruntime")
struct SequentialExportTests {
    typealias Check = ONNXRuntimeCheck

    @Test func convolutionalLayers() throws {
        let model = SequentialClassifier([
            ("c1", Conv2d(2, 4, kernel: 3, padding: 1)), ("bn1", BatchNorm(4)), ("act1", PReLU(channels: 4)),
            ("pool1", MaxPool2d(kernel: 3, stride: 2, padding: 1)),
            (
                "res",
                Residual(
                    [
                        ("c", Conv2d(4, 6, kernel: 3, padding: 1, bias: false)), ("bn", BatchNorm(6)),
                        ("act", ActivationLayer(.relu)),
                    ], projection: Conv2d(4, 6, kernel: 1, bias: false))
            ),
            ("up", ConvTranspose2d(6, 4, kernel: (2, 2), stride: (2, 2))), ("act2", ActivationLayer(.elu(alpha: 1))),
            ("pool2", AvgPool2d(kernel: 2, padding: 1, countIncludePad: false)),
            ("pool3", AvgPool2d(kernel: 2)), ("gap", GlobalAvgPool2d()), ("drop", Dropout(0.3)),
            ("ln", LayerNorm(4)), ("act3", PReLU()), ("fc", Linear(4, 3)),
        ])
        #expect(try FeedForwardExportTests.classifier("sequential-cnn", model, sample: [2, 8, 8], classes: 3) < 1e-4)
    }

    @Test func flattenedTable() throws {
        let model = SequentialClassifier([
            ("flat", Flatten()), ("fc1", Linear(12, 8)), ("bn", BatchNorm(8)), ("act", ActivationLayer(.silu)),
            ("res", Residual([("fc", Linear(8, 5)), ("act", ActivationLayer(.geluTanh))], projection: Linear(8, 5))),
            ("same", Residual([("fc", Linear(5, 5)), ("act", ActivationLayer(.leakyRelu(slope: 0.01)))])),
            ("out", Linear(5, 3)),
        ])
        #expect(try FeedForwardExportTests.classifier("sequential-table", model, sample: [3, 4], classes: 3) < 1e-4)
    }

    @Test func tokensThroughRecurrentLayers() throws {
        let lstm = Recurrent(.lstm, inputSize: 4, hiddenSize: 5, layers: 2)
        let gru = Recurrent(.gru, inputSize: 5, hiddenSize: 6)
        let model = SequentialClassifier([
            ("embed", Embedding(9, 4)), ("lstm", RecurrentLayer(lstm, keepsSequence: true)),
            ("gru", RecurrentLayer(gru, keepsSequence: false)), ("out", Linear(6, 3)),
        ])
        let batches = (0..<3).map { s in
            (Check.tokens([4, 5], vocabulary: 9, seed: UInt64(s)), Check.labels(4, classes: 3, seed: 9 + UInt64(s)))
        }
        Check.train(model, batches: batches)
        let ids = Check.tokens([3, 5], vocabulary: 9, seed: 89)
        let logits = withNoGrad { model.logits(ids).values }
        let error = try Check.check(
            "sequential-recurrent", model, input: .init(shape: [5], tokens: true), feeds: [("input_ids", ids)],
            expected: [("logits", logits)]
        ).error
        #expect(error < Check.tolerance)
    }

    @Test func regressor() throws {
        let model = SequentialRegressor(
            [("fc1", Linear(5, 8)), ("act", ActivationLayer(.tanh)), ("fc2", Linear(8, 2))], outputs: 2, loss: .mse)
        Check.train(
            model, batches: (0..<3).map { (Check.floats([4, 5], seed: UInt64($0)), Check.floats([4, 2], seed: 7)) })
        let x = Check.floats([3, 5], seed: 88)
        let y = withNoGrad { model.predictions(x).values }
        let error = try Check.check(
            "sequential-regressor", model, input: .init(shape: [5], tokens: false), feeds: [("input", x)],
            expected: [("predictions", y)]
        ).error
        #expect(error < Check.tolerance)
    }
}
