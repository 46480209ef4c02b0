import NN
import Testing

/// PReLU as `torch.nn.PReLU` computes it: x where x > 0, else the channel's slope times x.
@Suite("PReLU")
struct PReLUTests {
    /// Known values: two channels with slopes 0.25 (the default) and 0.5, over a 2x2 plane.
    @Test func forwardUsesEachChannelsSlope() {
        let layer = PReLU(channels: 2)
        #expect(layer.weight.scalars == [0.25, 0.25])
        layer.weight.data.ptr[1] = 0.5
        let x = Tensor([-4, 2, -1, 0, 3, -2, -8, 1], shape: [1, 2, 2, 2])
        #expect(layer(x).scalars == [-1, 2, -0.25, 0, 3, -1, -4, 1])
    }

    /// The slope's gradient sums dy·x over the negative inputs of its channel, across the batch.
    @Test func slopeGradientSumsTheNegativeInputs() {
        let layer = PReLU(channels: 3)
        let x = Tensor([-1, 2, -3, 4, 5, -6, -0.5, 1, 1], shape: [3, 3])  // (N 3, C 3)
        let y = layer(x)
        #expect(y.scalars == [-0.25, 2, -0.75, 4, 5, -1.5, -0.125, 1, 1])
        y.sum().backward()
        // Channel 0: -1 + -0.5; channel 1: none negative; channel 2: -3 + -6.
        #expect(layer.weight.grad!.scalars == [-1.5, 0, -9])
    }

    /// One shared slope applies to every element, whatever the shape.
    @Test func sharedSlopeAppliesEverywhere() {
        let layer = PReLU()
        let y = layer(Tensor([-2, 3, -4, 1, -8, 2], shape: [2, 3]))
        #expect(y.scalars == [-0.5, 3, -1, 1, -2, 2])
    }
}
