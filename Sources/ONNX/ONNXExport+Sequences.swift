import Models
import NN

extension ONNXExport {
    /// The GPT: token ids (batch, sequence) with sequence <= context, to next-token logits
    /// (batch, sequence, vocabulary) at every position.
    static func gpt(_ m: GPT, _ g: GraphBuilder) throws -> ([ONNXValue], [(String, ONNXValue)]) {
        let ids = g.input("input_ids", .int64, [.batch, .named("sequence")])
        let c = m.tokenEmbedding.weight.shape[1]
        var tokens = g.embedding(m.tokenEmbedding.weight, ids, scope: "tokenEmbedding")
        let table: ONNXValue
        if let positions = m.positionEmbedding {
            table = g.parameter(positions.weight)
        } else {
            tokens = g.scale(tokens, by: Float(c).squareRoot(), scope: "tokenEmbedding")
            let sines = PositionalEncoding.sinusoidal(positions: m.context, width: c)
            table = g.constant(sines.scalars, shape: [m.context, c], name: "positionEncoding")
        }
        let t = g.size(of: ids, axis: 1, scope: "positions")
        var x = g.add(tokens, g.prefix(table, length: t, axis: 0, scope: "positions", size: ids.shape[1]), scope: "")
        let mask = g.causalMask(length: m.context)
        for (i, block) in m.blocks.enumerated() {
            x = g.transformerBlock(block, x, causalMask: mask, scope: "blocks.\(i)")
        }
        let logits = g.linear(m.head, g.layerNorm(m.finalNorm, x, scope: "finalNorm"), scope: "head")
        return ([ids], [("logits", logits)])
    }

    /// The encoder-decoder: source ids (batch, source) and decoder input ids (batch, target),
    /// the begin token then the target so far, to logits (batch, target, vocabulary).
    static func seq2seq(_ m: Seq2SeqTransformer, _ g: GraphBuilder) -> ([ONNXValue], [(String, ONNXValue)]) {
        let source = g.input("source_ids", .int64, [.batch, .named("source")])
        let target = g.input("decoder_input_ids", .int64, [.batch, .named("target")])
        let table = g.parameter(m.positionEmbedding.weight)
        func embed(_ ids: ONNXValue, _ scope: String) -> ONNXValue {
            let tokens = g.embedding(m.tokenEmbedding.weight, ids, scope: scope)
            let length = g.size(of: ids, axis: 1, scope: scope)
            return g.add(
                tokens, g.prefix(table, length: length, axis: 0, scope: scope, size: ids.shape[1]), scope: scope)
        }
        var x = embed(source, "encoder")
        for (i, block) in m.encoder.enumerated() {
            x = g.transformerBlock(block, x, causalMask: nil, scope: "encoder.\(i)")
        }
        let memory = g.layerNorm(m.encoderNorm, x, scope: "encoderNorm")
        let mask = g.causalMask(length: m.positionEmbedding.weight.shape[0])
        var y = embed(target, "decoder")
        for (i, block) in m.decoder.enumerated() {
            y = g.decoderBlock(block, y, memory: memory, causalMask: mask, scope: "decoder.\(i)")
        }
        let logits = g.linear(m.head, g.layerNorm(m.decoderNorm, y, scope: "decoderNorm"), scope: "head")
        return ([source, target], [("logits", logits)])
    }

    /// The ViT: images to logits from the class token.
    static func visionTransformer(_ m: VisionTransformer, _ spec: Input, _ g: GraphBuilder) -> (
        [ONNXValue], [(String, ONNXValue)]
    ) {
        let images = input(spec, g)
        let c = m.patchEmbedding.weight.shape[0]
        let grid = g.conv2d(m.patchEmbedding, images, scope: "patchEmbedding")  // (N, C, H/P, W/P)
        let count = (grid.shape[2].size ?? 1) * (grid.shape[3].size ?? 1)
        let patches = g.transpose(
            g.reshape(grid, [0, c, -1], scope: "patchEmbedding", shape: [.batch, .fixed(c), .fixed(count)]), [0, 2, 1],
            scope: "patchEmbedding")  // (N, P², C)
        let n = g.size(of: images, axis: 0, scope: "classToken")
        let shape = g.concat([n, g.int64s([1, c])], axis: 0, scope: "classToken")
        let token = g.node(
            "Expand", [g.parameter(m.classToken), shape], scope: "classToken", shape: [.batch, .fixed(1), .fixed(c)])
        var x = g.add(
            g.concat([token, patches], axis: 1, scope: "classToken"), g.parameter(m.positionEmbedding),
            scope: "positionEmbedding")
        for (i, block) in m.blocks.enumerated() {
            x = g.transformerBlock(block, x, causalMask: nil, scope: "blocks.\(i)")
        }
        let first = g.node(
            "Gather", [x, g.int64s([0])], [.int("axis", 1)], scope: "classOutput",
            shape: [.batch, .fixed(1), .fixed(c)])
        let classOutput = g.squeeze(first, axes: [1], scope: "classOutput")
        return (
            [images],
            [("logits", g.linear(m.head, g.layerNorm(m.finalNorm, classOutput, scope: "finalNorm"), scope: "head"))]
        )
    }

    /// The recurrent classifier: token ids (batch, sequence) to logits from the last layer's final state.
    static func recurrentClassifier(_ m: SequenceClassifier, _ g: GraphBuilder) throws -> (
        [ONNXValue], [(String, ONNXValue)]
    ) {
        let ids = g.input("input_ids", .int64, [.batch, .named("sequence")])
        let e = g.embedding(m.embedding.weight, ids, scope: "embedding")
        let (_, final) = try g.recurrent(m.recurrent, e, scope: "recurrent")
        return ([ids], [("logits", g.linear(m.head, final, scope: "head"))])
    }

    /// The recurrent language model: token ids (batch, sequence) to next-token logits
    /// (batch, sequence, vocabulary) at every position.
    static func recurrentLanguageModel(_ m: RecurrentLanguageModel, _ g: GraphBuilder) throws -> (
        [ONNXValue], [(String, ONNXValue)]
    ) {
        let ids = g.input("input_ids", .int64, [.batch, .named("sequence")])
        let e = g.embedding(m.embedding.weight, ids, scope: "embedding")
        let (states, _) = try g.recurrent(m.recurrent, e, scope: "recurrent")
        return ([ids], [("logits", g.linear(m.head, states, scope: "head"))])
    }
}
