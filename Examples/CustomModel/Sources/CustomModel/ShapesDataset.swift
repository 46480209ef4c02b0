import TandemKit

/// Grey images of four drawn shapes (disk, square, triangle, cross) at random places, sizes and
/// brightness, with noise: a dataset generated on the fly, written against Tandem's `Dataset`.
///
/// Sample `i` is a pure function of the seed and `i` (Philox's counter is the draw, its stream the
/// index), so every rank, the prefetch thread and a resumed run see the same image without any
/// of them storing the data; the label is `i % 4`, so the classes are balanced.
final class ShapesDataset: Dataset {
    /// The class names, in label order.
    static let classNames = ["disk", "square", "triangle", "cross"]

    let count: Int
    /// Images are (1, side, side).
    let side: Int
    let seed: UInt64

    /// - Parameters:
    ///   - count: samples.
    ///   - side: image width and height in pixels (at least 12).
    ///   - seed: the drawings; give each split its own.
    init(count: Int, side: Int = 16, seed: UInt64) {
        precondition(count > 0 && side >= 12, "ShapesDataset needs samples and images of at least 12x12")
        (self.count, self.side, self.seed) = (count, side, seed)
    }

    var inputShape: Shape { [1, side, side] }
    var inputType: DType { .float32 }
    var classCount: Int { Self.classNames.count }

    /// Draws the samples at `indices`: inputs (N, 1, side, side), labels (N) int32.
    func batch(_ indices: ArraySlice<Int>) -> Batch {
        let pixels = side * side
        let inputs = NDArray(shape: [indices.count, 1, side, side])
        var labels: [Int32] = []
        for (row, index) in indices.enumerated() {
            let label = index % classCount
            draw(label, sample: index, into: inputs.ptr + row * pixels)
            labels.append(Int32(label))
        }
        return Batch(inputs: inputs, targets: NDArray(indices: labels, shape: [indices.count]))
    }

    /// Renders shape `label` of sample `sample` into `image` (side x side floats, row-major).
    func draw(_ label: Int, sample: Int, into image: UnsafeMutablePointer<Float>) {
        var draws: UInt64 = 0
        // A uniform number in [low, high): the next draw of this sample's own stream.
        func uniform(_ low: Float, _ high: Float) -> Float {
            draws += 1
            let bits = PhiloxRNG.block(seed: seed, counter: draws, stream: UInt64(sample))[0]
            return low + (high - low) * PhiloxRNG.unitFloat(bits)
        }
        let s = Float(side)
        let radius = uniform(0.2 * s, 0.32 * s)
        let cx = uniform(radius, s - radius), cy = uniform(radius, s - radius)
        let brightness = uniform(0.6, 1)
        for y in 0..<side {
            for x in 0..<side {
                let dx = Float(x) + 0.5 - cx, dy = Float(y) + 0.5 - cy
                let inside: Bool
                switch label {
                case 0: inside = dx * dx + dy * dy <= radius * radius
                case 1: inside = abs(dx) <= 0.8 * radius && abs(dy) <= 0.8 * radius
                // Pointing up: the half-width grows from 0 at the apex to the radius at the base.
                case 2: inside = dy >= -radius && dy <= radius && abs(dx) <= (dy + radius) / 2
                default: inside = (abs(dx) <= 1.2 && abs(dy) <= radius) || (abs(dy) <= 1.2 && abs(dx) <= radius)
                }
                image[y * side + x] = (inside ? brightness : 0) + uniform(-0.25, 0.25)
            }
        }
    }
}
