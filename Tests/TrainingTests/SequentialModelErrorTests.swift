import Datasets
import Testing
@testable import Training

/// Every mistake in a YAML-declared model is a config error naming the layer, its kind and
/// the shapes involved, found before any parameter is made.
@Suite("Mistakes in YAML-declared models")
struct SequentialModelErrorTests {
    static let images = "{name: synthetic, synthetic: {samples: 40, test_samples: 20}}"
    static let flat = "{name: synthetic, synthetic: {samples: 40, input_shape: [12], classes: 3, test_samples: 20}}"
    static let tokens = "{name: memory, memory: {samples: 40, length: 12, test_samples: 20}}"

    /// The problems a model section gives on `data`, or nil when it builds.
    static func message(_ model: String, _ data: String) -> String? {
        do {
            let config = try ConfigLoader.parse(yaml: "model: \(model)\ndata: \(data)\noptimizer: {lr: 0.1}\n")
            let splits = try DataSplits.load(config.data, seed: 0)
            _ = try ModelFactory.make(config.model, for: splits.train, seed: 0)
            return nil
        } catch let error as ConfigError {
            return error.problems.joined(separator: "\n")
        } catch {
            return "not a config error: \(error)"
        }
    }

    static func layers(_ list: String) -> String { "{name: sequential, layers: \(list)}" }

    static let kinds =
        "linear, conv, conv_transpose, max_pool, avg_pool, global_avg_pool, batch_norm, layer_norm, dropout, "
        + "flatten, embedding, rnn, lstm, gru, relu, leaky_relu, elu, gelu, silu, swish, tanh, sigmoid, softplus, "
        + "prelu, residual"

    /// (model section, data section, the whole message).
    static let cases: [(String, String, String)] = [
        // Shapes.
        (
            layers("[{conv: {out: 6, kernel: 5}}, flatten, {linear: {out: 10, in: 400}}]"), images,
            "model.layers[2] linear has in: 400 but gets 3456 features (3456)"
        ),
        (
            layers("[{conv: {out: 6, kernel: 5}}, {linear: {out: 10}}]"), images,
            "model.layers[1] linear needs (features) or (steps, features) but gets (6, 24, 24); put - flatten before it"
        ),
        (
            layers("[{conv: {out: 4, kernel: 3}}, flatten, {linear: {out: 3}}]"), flat,
            "model.layers[0] conv needs (channels, height, width) but gets (12)"
        ),
        (
            layers("[{conv: {out: 4, kernel: 5}}, {max_pool: {kernel: 4}}, {conv: {out: 8, kernel: 7}}]"), images,
            "model.layers[2] conv kernel 7x7 (dilation 1) is larger than its input (4, 6, 6) with padding 0"
        ),
        (
            layers("[{max_pool: {kernel: 30}}]"), images,
            "model.layers[0] max_pool kernel 30x30 is larger than its input (1, 28, 28) (padding 0)"
        ),
        (
            layers("[{conv: {out: 6, kernel: 3, groups: 4}}]"), images,
            "model.layers[0] conv groups 4 must divide its 1 input channels (1, 28, 28) and its 6 output channels"
        ),
        (
            layers("[{conv: {out: 4, kernel: 3}}, {residual: [{conv: {out: 8, kernel: 3, padding: 1}}]}]"), images,
            "model.layers[1] residual changes the shape (4, 26, 26) -> (8, 26, 26), but its sum needs the input's "
                + "shape; keep the shape, or add a projection: - residual: {projection: true, layers: [...]}"
        ),
        (
            layers("[{residual: [relu, {linear: {out: 3}}]}]"), images,
            "model.layers[0].residual[1] linear needs (features) or (steps, features) but gets (1, 28, 28); "
                + "put - flatten before it"
        ),
        (
            layers("[flatten, {linear: {out: 84}}]"), images,
            "model.layers[1] linear outputs (84) per sample, but the data needs (10) (10 classes); "
                + "end with - linear: {out: 10}"
        ),
        (
            layers("[{embedding: {dim: 8}}]"), images,
            "model.layers[0] embedding needs int32 token ids but gets float32 features (1, 28, 28)"
        ),
        (
            layers("[{linear: {out: 4}}]"), tokens,
            "model.layers[0] linear gets int32 token ids (12); start with an embedding, e.g. - embedding: {dim: 32}"
        ),
        (
            layers("[{lstm: {hidden: 8}}]"), images,
            "model.layers[0] lstm needs (steps, features) but gets (1, 28, 28)"
        ),
        (
            layers("[{conv_transpose: {out: 2, kernel: 3, output_padding: 1}}]"), images,
            "model.layers[0] conv_transpose output_padding 1x1 must be smaller than its stride or its dilation"
        ),
        (
            layers("[{embedding: {dim: 4, count: 8}}, flatten, {linear: {out: 4}}]"), tokens,
            "model.layers[0] embedding count 8 is below the data's 16 token ids; leave count out"
        ),
        // Kinds, keys and values.
        (
            layers("[flaten, {linear: {out: 10}}]"), images,
            "model.layers[0] flaten is not a layer kind; allowed: \(kinds) (did you mean flatten?)"
        ),
        (
            layers("[{conv: {out: 6, kernal: 5}}]"), images,
            "model.layers[0] conv has no key kernal (did you mean kernel?); "
                + "its keys: out, kernel, stride, padding, dilation, groups, bias, name"
        ),
        (
            layers("[{conv: {kernel: 5}}]"), images,
            "model.layers[0] conv needs the key out, e.g. - conv: {out: 6, kernel: 5}"
        ),
        (
            layers("[{conv: {out: 6, kernel: big}}]"), images,
            "model.layers[0] conv key kernel is big; allowed: an integer >= 1, or [height, width]"
        ),
        (layers("[{dropout: {p: 1.5}}]"), images, "model.layers[0] dropout key p is 1.5; allowed: 0 <= p < 1"),
        (
            layers("[{embedding: {dim: 4}}, {gru: {hidden: 8, keep: all}}, {linear: {out: 4}}]"), tokens,
            "model.layers[1] gru key keep is all; allowed: last, sequence"
        ),
        (
            layers("[{conv: {out: 6, kernel: 5}, relu: null}]"), images,
            "model.layers[0] is {conv: {out: 6, kernel: 5}, relu: null}; "
                + "each entry is one layer: - relu, or - conv: {out: 6, kernel: 5}"
        ),
        (
            layers("[{linear: {out: 5, name: fc}}, {linear: {out: 3, name: fc}}]"), flat,
            "model.layers[1] linear has the name fc, which model.layers[0] has; give each layer its own name"
        ),
        (
            layers("[{linear: {out: 3, name: a.b}}]"), flat,
            "model.layers[0] linear key name is a.b; allowed: letters, digits and _, starting with a letter "
                + "(not projection), e.g. c1"
        ),
        (layers("[]"), images, "model.layers is empty; give at least one layer, e.g. [flatten, {linear: {out: 10}}]"),
        // The config around the list.
        (
            "{name: lenet5, layers: [relu]}", images,
            "model.layers is a list of layers, which only model.name sequential takes; "
                + "for model lenet5 it is a count of stacked layers (e.g. 2)"
        ),
        (
            "{name: sequential}", images,
            "model.name sequential needs model.layers: a list of layers, e.g. [flatten, {linear: {out: 10}}]"
        ),
        (
            "{activation: gelu_tahn}", images,
            "model.activation is \"gelu_tahn\"; allowed: relu, leaky_relu, elu, gelu, gelu_tanh, silu, swish, tanh, "
                + "sigmoid, softplus (did you mean gelu_tanh?)"
        ),
    ]

    @Test(arguments: cases)
    func badModelsNameTheLayer(model: String, data: String, expected: String) {
        #expect(Self.message(model, data) == expected)
    }

    /// The table's models without their mistake build, so each message comes from the mistake.
    @Test func correctedModelsBuild() {
        #expect(
            Self.message(Self.layers("[{conv: {out: 6, kernel: 5}}, flatten, {linear: {out: 10}}]"), Self.images) == nil
        )
        #expect(
            Self.message(
                Self.layers(
                    "[{conv: {out: 4, kernel: 3}}, "
                        + "{residual: {projection: true, layers: [{conv: {out: 8, kernel: 3, padding: 1}}]}}, "
                        + "global_avg_pool, {linear: {out: 10}}]"
                ),
                Self.images) == nil)
        #expect(
            Self.message(Self.layers("[{embedding: {dim: 4}}, {gru: {hidden: 8}}, {linear: {out: 4}}]"), Self.tokens)
                == nil)
    }
}
