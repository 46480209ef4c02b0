/// Resizing with Pillow's BILINEAR filter: a triangle of radius 1 when enlarging; when
/// shrinking, a triangle stretched by the shrink factor, so every input pixel counts (antialiased).
public enum ImageResize {
    /// One output position's input window: the first input index and the weights from there.
    struct Window {
        let start: Int
        let weights: [Double]
    }

    /// `image` resized to (height, width); the rows first, then the columns, as Pillow does.
    /// Weights and sums are in double and the intermediate image in float, as Pillow's for a
    /// float image (mode "F"), so the two agree to float rounding.
    /// - Parameters:
    ///   - image: the source, any size.
    ///   - height: rows of the result (at least 1).
    ///   - width: columns of the result (at least 1).
    public static func resize(_ image: PlanarImage, height: Int, width: Int) -> PlanarImage {
        precondition(height >= 1 && width >= 1, "an image is resized to at least 1x1")
        if height == image.height && width == image.width { return image }
        let columns = windows(from: image.width, to: width), rows = windows(from: image.height, to: height)
        var out = [Float](repeating: 0, count: image.channels * height * width)
        var across = [Float](repeating: 0, count: image.height * width)
        image.pixels.withUnsafeBufferPointer { src in
            for c in 0..<image.channels {
                let plane = src.baseAddress! + c * image.height * image.width
                // Each row along its width first.
                for y in 0..<image.height {
                    let line = plane + y * image.width
                    for (x, window) in columns.enumerated() {
                        var sum = 0.0
                        for (k, w) in window.weights.enumerated() { sum += Double(line[window.start + k]) * w }
                        across[y * width + x] = Float(sum)
                    }
                }
                // Then each column along its height.
                let base = c * height * width
                for (y, window) in rows.enumerated() {
                    for x in 0..<width {
                        var sum = 0.0
                        for (k, w) in window.weights.enumerated() {
                            sum += Double(across[(window.start + k) * width + x]) * w
                        }
                        out[base + y * width + x] = Float(sum)
                    }
                }
            }
        }
        return PlanarImage(channels: image.channels, height: height, width: width, pixels: out)
    }

    /// The input window of every output position along one axis (Pillow's `precompute_coeffs`).
    /// - Parameters:
    ///   - inSize: input pixels along the axis.
    ///   - outSize: output pixels along it.
    static func windows(from inSize: Int, to outSize: Int) -> [Window] {
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = 1.0 * filterScale, inverse = 1 / filterScale  // radius 1 input pixel when enlarging
        return (0..<outSize).map { out in
            let center = (Double(out) + 0.5) * scale
            let start = max(Int(center - support + 0.5), 0)
            let end = min(Int(center + support + 0.5), inSize)
            var weights = (start..<end).map { i in max(0, 1 - abs((Double(i) - center + 0.5) * inverse)) }
            let total = weights.reduce(0, +)
            if total != 0 { weights = weights.map { $0 / total } }
            return Window(start: start, weights: weights)
        }
    }
}
