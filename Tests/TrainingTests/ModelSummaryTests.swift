import Datasets
import Foundation
import Testing
@testable import Training

/// `tandem inspect-model`'s table: every module with its output shape from a forward pass on
/// one sample and its parameter count, for built-in and YAML-declared models alike.
@Suite("Model summaries", .serialized)
struct ModelSummaryTests {
    static let images = "data: {name: synthetic, synthetic: {samples: 40, test_samples: 20}}\noptimizer: {lr: 0.1}\n"

    static func summary(_ yaml: String) throws -> ModelSummary {
        let config = try ConfigLoader.parse(yaml: yaml)
        let data = try DataSplits.load(config.data, seed: 0)
        return ModelSummary.make(try ModelFactory.make(config.model, for: data.train, seed: 0), data: data.train)
    }

    /// The row of `name`: kind, output shape and parameters.
    static func row(_ s: ModelSummary, _ name: String) -> String? {
        s.rows.first { $0.name == name }.map { r in
            "\(r.kind) \(r.outputShape.map { "\($0)" } ?? "-") \(r.parameters)"
        }
    }

    /// The built-in LeNet-5: its seven layers with PyTorch's shapes and counts (61,706 in all).
    @Test func builtInLeNet5() throws {
        let s = try Self.summary(Self.images + "model: {name: lenet5}")
        #expect(s.rows.map(\.name) == ["", "c1", "s2", "c3", "s4", "f5", "f6", "output"])
        #expect(Self.row(s, "") == "LeNet5 [1, 10] 61706")
        #expect(Self.row(s, "c1") == "Conv2d [1, 6, 28, 28] 156")
        #expect(Self.row(s, "s2") == "MaxPool2d [1, 6, 14, 14] 0")
        #expect(Self.row(s, "c3") == "Conv2d [1, 16, 10, 10] 2416")
        #expect(Self.row(s, "s4") == "MaxPool2d [1, 16, 5, 5] 0")
        #expect(Self.row(s, "f5") == "Linear [1, 120] 48120")
        #expect(Self.row(s, "output") == "Linear [1, 10] 850")
        #expect(s.inputShape == [1, 1, 28, 28] && s.totalParameters == 61706 && s.bufferValues == 0)
        let table = s.table(title: "lenet5")
        #expect(table.contains("Total parameters: 61,706 (241.0 KiB as float32)"))
        #expect(table.split(separator: "\n").contains { $0.hasSuffix("48,120") && $0.contains("  f5  ") })
    }

    /// A built-in model with nested blocks: the blocks' own rows and batch-norm buffers.
    @Test func builtInResNetBlocks() throws {
        let s = try Self.summary(Self.images + "model: {name: resnet, channels: [4, 8]}")
        #expect(Self.row(s, "blocks.1")?.hasPrefix("BasicBlock [1, 8, 14, 14]") == true)
        #expect(Self.row(s, "blocks.1.projection")?.hasPrefix("Conv2d [1, 8, 14, 14]") == true)
        #expect(s.rows.first { $0.name == "blocks.1.conv1" }?.depth == 2)
        // Running mean and variance of the stem's 4 channels and each block's norms, and each norm's counter.
        #expect(s.bufferValues == 2 * (4 + 4 + 4 + 8 + 8 + 8) + 6)
    }

    /// Attention and recurrent modules, which are not plain layers, have their rows and shapes too.
    @Test func builtInTransformerAndRecurrentModules() throws {
        let vit = try Self.summary(Self.images + "model: {name: vit, embedding_size: 16, layers: 1}")
        #expect(Self.row(vit, "patchEmbedding") == "Conv2d [1, 16, 7, 7] 272")
        #expect(Self.row(vit, "blocks.0")?.hasPrefix("TransformerBlock [1, 50, 16]") == true)
        #expect(Self.row(vit, "blocks.0.attention") == "MultiHeadAttention [1, 50, 16] 1088")
        #expect(Self.row(vit, "blocks.0.feedForward")?.hasPrefix("FeedForward [1, 50, 16]") == true)
        let lstm = try Self.summary(
            "data: {name: memory, memory: {samples: 40, length: 12, test_samples: 20}}\noptimizer: {lr: 0.1}\n"
                + "model: {name: lstm, hidden_size: 8}")
        #expect(Self.row(lstm, "recurrent") == "Recurrent [1, 12, 8] 1088")
        #expect(Self.row(lstm, "") == "SequenceClassifier [1, 4] 1508")
    }

    /// A YAML model: named and indexed layers, the residual block and its inner layers.
    @Test func declaredModel() throws {
        let s = try Self.summary(
            Self.images + """
                model:
                  name: sequential
                  layers:
                    - conv: {out: 4, kernel: 3, padding: 1, name: stem}
                    - prelu
                    - residual: [{conv: {out: 4, kernel: 3, padding: 1}}, {batch_norm: {}}, gelu]
                    - max_pool: {kernel: 2}
                    - flatten
                    - linear: {out: 10, name: head}
                """)
        #expect(s.rows.map(\.name) == ["", "stem", "1", "2", "2.0", "2.1", "2.2", "3", "4", "head"])
        #expect(Self.row(s, "") == "SequentialClassifier [1, 10] 8050")
        #expect(Self.row(s, "stem") == "Conv2d [1, 4, 28, 28] 40")
        #expect(Self.row(s, "1") == "PReLU [1, 4, 28, 28] 4")
        #expect(Self.row(s, "2") == "Residual [1, 4, 28, 28] 156")
        #expect(Self.row(s, "2.2") == "ActivationLayer(geluErf) [1, 4, 28, 28] 0")
        #expect(Self.row(s, "4") == "Flatten [1, 784] 0")
        #expect(Self.row(s, "head") == "Linear [1, 10] 7850")
        #expect(s.bufferValues == 9)
    }
}
