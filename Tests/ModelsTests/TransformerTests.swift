import Foundation
import Datasets
import Models
import NN
import Optim
import Testing

/// Sequences of `period` random tokens repeated to `length`: from position `period` on, the
/// next token is the one `period` back, which only attention can look up.
private func periodicBatch(_ n: Int, length: Int, period: Int, vocabulary: Int, state: inout UInt64) -> Batch {
    var ids: [Int32] = []
    for _ in 0..<n {
        let motif = (0..<period).map { _ -> Int32 in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int32((state >> 33) % UInt64(vocabulary))
        }
        ids += (0..<length).map { motif[$0 % period] }
    }
    let text = NextTokenSequenceDataset(ids: ids, context: length - 1, classCount: vocabulary, stride: length)
    return text.batch(ArraySlice(0..<n))
}

@Suite("GPT decoder")
struct GPTTests {
    @Test(arguments: [GPT.Positions.learned, .sinusoidal])
    func learnsToCopyThroughAttention(positions: GPT.Positions) {
        var state: UInt64 = 11
        Init.seed(1)
        let gpt = GPT(vocabulary: 8, context: 15, width: 32, layers: 2, heads: 2, positions: positions)
        // Fixed sines must be mixed into offsets by the attention weights; learned ones are learned to fit.
        trainWithAdam(gpt, learningRate: 3e-3, steps: positions == .learned ? 150 : 600) { _ in
            periodicBatch(16, length: 16, period: 4, vocabulary: 8, state: &state)
        }
        gpt.eval()
        let test = periodicBatch(64, length: 16, period: 4, vocabulary: 8, state: &state)
        let predicted = withNoGrad { gpt.logits(test.inputs).argmax(axis: 1) }
        // Positions 3...14 predict a repeat; positions 0-2 are random guesses (1/8).
        var right = 0, total = 0
        for row in 0..<(64 * 15) where row % 15 >= 3 {
            total += 1
            if predicted.int32Pointer[row] == test.flatTargets.int32Pointer[row] { right += 1 }
        }
        #expect(Double(right) / Double(total) >= 0.95, "\(positions): \(right)/\(total) repeated tokens predicted")
    }

    @Test(arguments: [GPT.Positions.learned, .sinusoidal])
    func laterTokensDoNotChangeEarlierPredictions(positions: GPT.Positions) {
        Init.seed(4)
        let gpt = GPT(vocabulary: 10, context: 9, width: 16, layers: 2, heads: 4, positions: positions)
        let a: [Int32] = [1, 2, 3, 4, 5, 6, 7, 8, 9], b: [Int32] = [1, 2, 3, 4, 0, 0, 9, 9, 9]
        let la = withNoGrad { gpt.logits(NDArray(indices: a, shape: [1, 9])).values.scalars }
        let lb = withNoGrad { gpt.logits(NDArray(indices: b, shape: [1, 9])).values.scalars }
        #expect(Array(la[0..<40]) == Array(lb[0..<40]), "positions 0-3 read only tokens 0-3")
        #expect(Array(la[40..<50]) != Array(lb[40..<50]), "position 4 reads token 4")
    }

    @Test func parametersFollowGPT2() {
        Init.seed(2)
        let gpt = GPT(vocabulary: 65, context: 64, width: 128, layers: 4, heads: 4)
        // nanoGPT's 4-layer, 128-wide model without weight tying: 12·L·C² + 13·L·C for the blocks,
        // embeddings (V + T)·C, the head V·C, the final norm 2C.
        let (l, c, v, t) = (4, 128, 65, 64)
        #expect(gpt.parameterCount == 12 * l * c * c + 13 * l * c + (v + t) * c + v * c + 2 * c)
        let residual = gpt.blocks[0].attention.output.weight.scalars,
            plain = gpt.blocks[0].attention.query.weight.scalars
        func std(_ x: [Float]) -> Double { (x.reduce(0) { $0 + Double($1 * $1) } / Double(x.count)).squareRoot() }
        #expect(abs(std(plain) - 0.02) < 0.001)
        #expect(abs(std(residual) - 0.02 / 8.0.squareRoot()) < 0.001)
        #expect(gpt.blocks[0].attention.query.bias!.scalars.allSatisfy { $0 == 0 })
    }

    @Test func sinusoidalTableMatchesTheFormula() {
        let pe = PositionalEncoding.sinusoidal(positions: 7, width: 6).scalars
        for pos in 0..<7 {
            for i in 0..<3 {
                let angle = Double(pos) / pow(10000, Double(2 * i) / 6)
                #expect(abs(Double(pe[pos * 6 + 2 * i]) - sin(angle)) < 1e-6)
                #expect(abs(Double(pe[pos * 6 + 2 * i + 1]) - cos(angle)) < 1e-6)
            }
        }
    }

    @Test func sequenceWindowsShiftTargetsByOne() {
        let text = NextTokenSequenceDataset(ids: (0..<20).map(Int32.init), context: 5, classCount: 20, stride: 5)
        #expect(text.count == 3)  // windows at 0, 5, 10; the one at 15 has no target for its last token
        let b = text.batch(ArraySlice([1, 2]))
        #expect(b.inputs.indices == [5, 6, 7, 8, 9, 10, 11, 12, 13, 14])
        #expect(b.targets.indices == [6, 7, 8, 9, 10, 11, 12, 13, 14, 15])
        #expect(b.flatTargets.shape == [10] && b.count == 2 && text.targetsPerSample == 5)
        #expect(NextTokenSequenceDataset(ids: (0..<20).map(Int32.init), context: 5, classCount: 20).count == 15)
    }
}

@Suite("Vision Transformer")
struct VisionTransformerTests {
    @Test func learnsClustersOfImages() {
        let data = SyntheticDataset.clusters(count: 320, inputShape: [1, 8, 8], classes: 4, noise: 1.0, seed: 3)
        Init.seed(2)
        let vit = VisionTransformer(imageSize: (1, 8, 8), patch: 4, width: 16, layers: 1, heads: 2, classes: 4)
        trainWithAdam(vit, learningRate: 3e-3, steps: 60, cycling(data, samples: 256, size: 32))
        let correct = correctPredictions(vit, on: data.batch(ArraySlice(256..<320)))
        #expect(correct >= 58, "\(correct)/64 held-out images right")
    }

    @Test func tokensAreTheClassTokenAndOnePerPatch() {
        Init.seed(1)
        let vit = VisionTransformer(imageSize: (1, 28, 28), patch: 4, width: 64, layers: 4, heads: 4, classes: 10)
        #expect(vit.positionEmbedding.shape == [1, 50, 64] && vit.classToken.shape == [1, 1, 64])
        // Patch embedding (P²·C + C), class token and positions, the blocks, final norm, head.
        let (c, l) = (64, 4)
        #expect(vit.parameterCount == (16 * c + c) + c + 50 * c + l * (12 * c * c + 13 * c) + 2 * c + (10 * c + 10))
        // Every patch reaches the class token: changing one corner pixel changes the logits.
        var image = [Float](repeating: 0, count: 784)
        let a = withNoGrad { vit.logits(NDArray(image, shape: [1, 1, 28, 28])).values.scalars }
        image[783] = 1
        let b = withNoGrad { vit.logits(NDArray(image, shape: [1, 1, 28, 28])).values.scalars }
        #expect(a != b)
    }
}

@Suite("Encoder-decoder transformer")
struct Seq2SeqTransformerTests {
    @Test func learnsToReverseAndGreedyDecodingAgreesWithTeacherForcing() {
        let data = SequenceToSequenceDataset.synthetic(.reverse, count: 1200, length: 5, vocabulary: 7, seed: 4)
        let train = data.slice(0..<1000), held = data.slice(1000..<1200)
        Init.seed(3)
        let model = Seq2SeqTransformer(vocabulary: 7, sourceLength: 5, targetLength: 5, width: 32, layers: 1, heads: 2)
        trainWithAdam(model, learningRate: 3e-3, steps: 250, cycling(train, samples: 1000, size: 40))
        model.eval()
        let b = held.batch(ArraySlice(0..<200))
        let forced = withNoGrad { model.logits(b.inputs).argmax(axis: 1) }.indices
        let decoded = model.greedyDecode(NDArray(indices: held.sources.flatMap { $0 }, shape: [200, 5])).indices
        let truth = b.flatTargets.indices
        var exactForced = 0, exactDecoded = 0
        for n in 0..<200 {
            let rows = (n * 5)..<(n * 5 + 5)
            let f = Array(forced[rows]) == Array(truth[rows]), d = Array(decoded[rows]) == Array(truth[rows])
            if f { exactForced += 1 }
            if d { exactDecoded += 1 }
            // Every position right under teacher forcing is exactly a correct greedy decoding.
            #expect(f == d, "sample \(n): teacher forcing \(f), greedy decoding \(d)")
        }
        #expect(exactDecoded >= 190, "\(exactDecoded)/200 held-out strings reversed exactly")
    }

    @Test func batchesPackSourceAndShiftedTarget() {
        let data = SequenceToSequenceDataset(sources: [[3, 1, 2]], targets: [[1, 2, 3]], vocabulary: 5)
        let b = data.batch([0])
        #expect(b.inputs.indices == [3, 1, 2, 0, 1, 2] && b.targets.indices == [1, 2, 3])
        let sorted = SequenceToSequenceDataset.synthetic(.sort, count: 50, length: 6, vocabulary: 5, seed: 1)
        #expect(sorted.targets == sorted.sources.map { $0.sorted() })
        #expect(sorted.sources.joined().allSatisfy { (1...4).contains($0) } && Set(sorted.sources.joined()).count == 4)
    }
}
