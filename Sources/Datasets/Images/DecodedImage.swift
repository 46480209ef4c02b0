/// An image as float32 channels, rows and columns (C, H, W), each sample in [0, 1].
public struct DecodedImage: Equatable, Sendable {
    public let channels: Int
    public let height: Int
    public let width: Int
    /// (C, H, W) row-major.
    public var pixels: [Float]

    /// - Parameters:
    ///   - channels: planes (1 grey, 3 RGB).
    ///   - height: rows.
    ///   - width: columns.
    ///   - pixels: channels x height x width samples, plane after plane.
    public init(channels: Int, height: Int, width: Int, pixels: [Float]) {
        precondition(pixels.count == channels * height * width, "pixels must hold channels x height x width samples")
        (self.channels, self.height, self.width, self.pixels) = (channels, height, width, pixels)
    }

    /// The image with `count` channels: grey to RGB repeats the grey plane; RGB to grey takes
    /// ITU-R 601 luma, 0.299 R + 0.587 G + 0.114 B, as Pillow's `convert("L")` does (in float
    /// here, where Pillow rounds to 8 bits, so the two differ by at most half a level, 0.5/255).
    /// - Parameters:
    ///   - count: 1 or 3.
    public func converted(toChannels count: Int) -> DecodedImage {
        precondition(count == 1 || count == 3, "images have 1 or 3 channels")
        guard count != channels else { return self }
        let plane = height * width
        if count == 3 {
            return DecodedImage(channels: 3, height: height, width: width, pixels: pixels + pixels + pixels)
        }
        let grey = [Float](unsafeUninitializedCapacity: plane) { out, n in
            pixels.withUnsafeBufferPointer { p in
                for i in 0..<plane {
                    out[i] = 0.299 * p[i] + 0.587 * p[plane + i] + 0.114 * p[2 * plane + i]
                }
            }
            n = plane
        }
        return DecodedImage(channels: 1, height: height, width: width, pixels: grey)
    }
}
