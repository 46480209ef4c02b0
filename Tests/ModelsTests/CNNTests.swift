import Models
import NN
import Testing

/// The CNN family: shapes, PyTorch-style names, and that each one learns a small image task.
@Suite("CNNs: ResNet, MobileNet, Inception")
struct CNNTests {
    /// Three classes of 1x12x12 images: a bright horizontal bar, a vertical bar, or a dot, at
    /// random positions, with noise.
    static func images(_ n: Int, seed: UInt64) -> (NDArray, NDArray) {
        var rng = PhiloxRNG(seed: seed)
        let x = NDArray(shape: [n, 1, 12, 12], zeroed: false)
        rng.fillNormal(x.ptr, x.count, std: 0.3)
        var labels: [Int32] = []
        for i in 0..<n {
            let k = i % 3, offset = Int(PhiloxRNG.block(seed: seed, counter: UInt64(i))[0] % 8) + 2
            for j in 2..<10 {
                let (r, c) = k == 0 ? (offset, j) : k == 1 ? (j, offset) : (offset, offset)
                x.ptr[i * 144 + r * 12 + c] += k == 2 && j != 2 ? 0 : 2
            }
            labels.append(Int32(k))
        }
        return (x, NDArray(indices: labels, shape: [n]))
    }

    static func models() -> [(String, any Classifier)] {
        Init.seed(3)
        return [
            ("resnet", ResNet(channels: [8, 16], blocksPerStage: 1, classes: 3)),
            ("mobilenet", MobileNet(channels: [8, 16, 16], classes: 3)),
            ("inception", InceptionNet(channels: [8, 4, 8], classes: 3)),
        ]
    }

    @Test func namesAndShapes() {
        let (x, _) = Self.images(4, seed: 1)
        for (name, model) in Self.models() {
            #expect(model.logits(x).shape == [4, 3], "\(name)")
        }
        let resnet = ResNet(channels: [8, 16], blocksPerStage: 2, classes: 3)
        let names = resnet.namedParameters().map(\.0)
        #expect(
            names.contains("blocks.0.conv1.weight") && names.contains("blocks.2.projection.weight")
                && names.contains("blocks.2.projectionNorm.weight") && names.contains("head.bias"), "\(names)")
        #expect(!names.contains("blocks.1.projection.weight"))  // same shape: identity shortcut
        #expect(resnet.namedBuffers().map(\.0).contains("blocks.3.bn2.running_var"))
        let inception = InceptionNet(channels: [8, 4, 8], classes: 3)
        #expect(inception.namedParameters().map(\.0).contains("first.branch5.layers.3.weight"))
        let mobile = MobileNet(channels: [8, 16], classes: 3)
        #expect(mobile.blocks[0].depthwise.groups == 8 && mobile.blocks[0].depthwise.weight.shape == [8, 1, 3, 3])
    }

    /// 60 Adam steps take each model from chance to clearly better on held-out images.
    @Test func eachLearnsBarsAndDots() {
        let (x, y) = Self.images(96, seed: 7), (tx, ty) = Self.images(60, seed: 8)
        for (name, model) in Self.models() {
            let arena = model.flattenParameters()
            let adam = Adam(arena, learningRate: 0.01)
            var first: Float = 0, last: Float = 0
            for step in 0..<60 {
                let lo = (step * 32) % 96
                let xs = Layout.slice(x, axis: 0, start: lo, end: lo + 32)
                let ys = NDArray(indices: (lo..<(lo + 32)).map { y.int32Pointer[$0] }, shape: [32])
                let loss = Loss.crossEntropy(model.logits(xs), ys)
                if step == 0 { first = loss.item }
                last = loss.item
                arena.zeroGrad()
                loss.backward()
                adam.step()
            }
            model.eval()
            let predictions = withNoGrad { model.logits(tx).argmax(axis: 1) }
            let correct = (0..<60).filter { predictions.int32Pointer[$0] == ty.int32Pointer[$0] }.count
            #expect(last < 0.5 * first, "\(name): loss \(first) -> \(last)")
            #expect(correct >= 50, "\(name): \(correct)/60 held-out images right")
        }
    }
}

import Optim
