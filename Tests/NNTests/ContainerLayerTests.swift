import Foundation
import NN
import Testing

/// The layers a config-declared model is made of: named sequences, residual blocks and
/// recurrent stacks as layers.
@Suite("Container layers", .serialized)
struct ContainerLayerTests {
    /// Parameters, buffers and children take the names the list gives, in its order.
    @Test func namedSequentialNamesParametersByLayer() {
        Init.seed(3)
        let net = NamedSequential([
            ("c1", Conv2d(1, 2, kernel: 3)), ("0", ActivationLayer(.relu)), ("bn", BatchNorm(2)),
        ])
        #expect(net.namedParameters().map(\.0) == ["c1.weight", "c1.bias", "bn.weight", "bn.bias"])
        #expect(net.namedBuffers().map(\.0) == ["bn.running_mean", "bn.running_var", "bn.num_batches_tracked"])
        net.eval()
        #expect(net.containedModules.allSatisfy { !$0.1.training })
    }

    /// The sum of the body and the input, against the two computed apart.
    @Test func residualAddsItsInput() {
        Init.seed(5)
        let conv = Conv2d(3, 3, kernel: 3, padding: 1)
        let block = Residual([("conv", conv), ("act", ActivationLayer(.tanh))])
        let x = Tensor(Init.normal([2, 3, 4, 4]))
        let expected = zip(conv(x).tanh().scalars, x.scalars).map { $0 + $1 }
        #expect(block(x).scalars == expected)
        #expect(block.namedParameters().map(\.0) == ["conv.weight", "conv.bias"])
    }

    /// With a projection the input goes through it before the sum.
    @Test func residualProjectsTheInput() {
        Init.seed(6)
        let conv = Conv2d(2, 4, kernel: 3, stride: 2, padding: 1)
        let projection = Conv2d(2, 4, kernel: (1, 1), stride: (2, 2), bias: false)
        let block = Residual([("conv", conv)], projection: projection)
        let x = Tensor(Init.normal([1, 2, 6, 6]))
        let y = block(x)
        #expect(y.shape == [1, 4, 3, 3])
        #expect(y.scalars == zip(conv(x).scalars, projection(x).scalars).map { $0 + $1 })
        #expect(block.namedParameters().map(\.0) == ["conv.weight", "conv.bias", "projection.weight"])
    }

    /// The last step's hidden state, or every step's, of the stack it wraps; the cells keep
    /// `Recurrent`'s names.
    @Test func recurrentLayerKeepsTheLastStepOrTheSequence() {
        Init.seed(7)
        let stack = Recurrent(.gru, inputSize: 3, hiddenSize: 4, layers: 2)
        let x = Tensor(Init.normal([2, 5, 3]))
        let (output, final) = stack(x)
        #expect(RecurrentLayer(stack, keepsSequence: false)(x).scalars == final[1][0].scalars)
        let sequence = RecurrentLayer(stack, keepsSequence: true)
        #expect(sequence(x).scalars == output.scalars)
        #expect(sequence.namedParameters().map(\.0) == stack.namedParameters().map(\.0))
        #expect(sequence.namedParameters().first?.0 == "weight_ih_l0")
    }

    /// Output shapes are noted only while a summary records them.
    @Test func shapeTraceRecordsOnlyWhenAsked() {
        let flatten = Flatten()
        _ = flatten(Tensor(Init.normal([2, 3, 4])))
        let shapes = ShapeTrace.recording { _ = flatten(Tensor(Init.normal([2, 3, 4]))) }
        #expect(shapes[ObjectIdentifier(flatten)] == [2, 12])
        #expect(ShapeTrace.recording {}.isEmpty)
    }

    /// A forward pass on another thread during a recording is not noted, and does not race with it.
    @Test func shapeTraceIgnoresOtherThreads() {
        let mine = Flatten()
        let theirs = Flatten()
        let done = DispatchSemaphore(value: 0)
        let shapes = ShapeTrace.recording {
            Thread.detachNewThread {
                for _ in 0..<200 { _ = theirs(Tensor(Init.normal([2, 3]))) }
                done.signal()
            }
            for _ in 0..<200 { _ = mine(Tensor(Init.normal([2, 3, 4]))) }
            done.wait()
        }
        #expect(shapes[ObjectIdentifier(mine)] == [2, 12])
        #expect(shapes[ObjectIdentifier(theirs)] == nil)
    }
}
