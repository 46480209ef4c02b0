import Datasets
import Foundation
import TensorCore
import Testing

@Suite("Bilinear resizing against a naive triangle filter and against Pillow")
struct ImageResizeTests {
    /// The definition, computed directly in two dimensions: output (y, x) is the weighted mean
    /// of every input pixel, the weight a triangle around the output's centre in input
    /// coordinates, of radius 1 pixel, or the shrink factor when shrinking.
    static func naive(_ image: PlanarImage, height: Int, width: Int) -> [Float] {
        func weights(_ inSize: Int, _ outSize: Int, _ o: Int) -> [Double] {
            let scale = Double(inSize) / Double(outSize), radius = max(scale, 1)
            let center = (Double(o) + 0.5) * scale
            let w = (0..<inSize).map { i in max(0, 1 - abs(Double(i) + 0.5 - center) / radius) }
            let total = w.reduce(0, +)
            return w.map { $0 / total }
        }
        var out: [Float] = []
        for c in 0..<image.channels {
            for y in 0..<height {
                let wy = weights(image.height, height, y)
                for x in 0..<width {
                    let wx = weights(image.width, width, x)
                    var sum = 0.0
                    for i in 0..<image.height {
                        for j in 0..<image.width {
                            sum += wy[i] * wx[j] * Double(image.pixels[(c * image.height + i) * image.width + j])
                        }
                    }
                    out.append(Float(sum))
                }
            }
        }
        return out
    }

    @Test(arguments: [(9, 13, 4, 5), (9, 13, 20, 31), (7, 6, 3, 17), (12, 12, 12, 5), (5, 8, 1, 1), (4, 4, 9, 9)])
    func matchesTheTriangleFilterItDefines(size: (Int, Int, Int, Int)) {
        let (h, w, outH, outW) = size
        var rng = PhiloxRNG(seed: 7)
        var pixels = [Float](repeating: 0, count: 2 * h * w)
        pixels.withUnsafeMutableBufferPointer { rng.fillUniform($0.baseAddress!, $0.count) }
        let image = PlanarImage(channels: 2, height: h, width: w, pixels: pixels)
        let resized = ImageResize.resize(image, height: outH, width: outW)
        #expect(resized.channels == 2 && resized.height == outH && resized.width == outW)
        let reference = Self.naive(image, height: outH, width: outW)
        let worst = zip(resized.pixels, reference).map { abs($0 - $1) }.max()!
        // Measured: at most 6e-8 (one float rounding) apart.
        #expect(worst < 1e-6, "\(size): \(worst) from the naive filter")
    }

    @Test func keepsAnImageOfTheSameSize() {
        let image = PlanarImage(channels: 1, height: 2, width: 3, pixels: [0, 0.25, 0.5, 0.75, 1, 0.125])
        #expect(ImageResize.resize(image, height: 2, width: 3) == image)
    }

    /// Pillow's BILINEAR on a float image (mode "F") is the same computation in the same order
    /// (double weights and sums, a float image between the passes): measured identical at all
    /// six sizes; bound 1e-7. On 8-bit images Pillow rounds its weights to 22-bit fixed point
    /// and the result (and the image between passes) to 8 bits: measured at most 1 level of 255
    /// apart (ours rounded), which is the bound.
    @Test(.enabled(if: ImageFixtures.available, "needs python3 with Pillow to write the fixtures"))
    func matchesPillow() throws {
        let manifest = try ImageFixtures.manifest()
        let grey = try ImageDecoder.decode(try ImageFixtures.path(manifest.resize.grey))
        let colour = try ImageDecoder.decode(try ImageFixtures.path(manifest.resize.rgb))
        #expect(grey.height == 17 && grey.width == 23 && colour.channels == 3)
        #expect(manifest.resize.sizes.count == 6)
        for size in manifest.resize.sizes {
            let ours = ImageResize.resize(grey, height: size.height, width: size.width).pixels
            let float = zip(ours, size.float).map { abs(Double($0) - $1) }.max()!
            #expect(float <= 1e-7, "\(size.height)x\(size.width): \(float) from Pillow's float resize")
            let levels = zip(ours, size.grey8).map { abs(Int(($0 * 255).rounded()) - $1) }.max()!
            #expect(levels <= 1, "\(size.height)x\(size.width): \(levels) levels from Pillow's 8-bit resize")
            let rgb = ImageResize.resize(colour, height: size.height, width: size.width).pixels
            let rgbLevels = zip(rgb, size.rgb8).map { abs(Int(($0 * 255).rounded()) - $1) }.max()!
            #expect(
                rgb.count == size.rgb8.count && rgbLevels <= 1,
                "\(size.height)x\(size.width): \(rgbLevels) levels (RGB)")
        }
    }
}
