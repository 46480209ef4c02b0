/// One float32 image in channel-major layout (C, H, W), the layout a dataset's samples use.
public struct PlanarImage: Equatable, Sendable {
    public let channels: Int
    public let height: Int
    public let width: Int
    /// `channels × height × width` values, row-major within each channel.
    public var pixels: [Float]

    /// - Parameters:
    ///   - channels: C.
    ///   - height: H.
    ///   - width: W.
    ///   - pixels: C·H·W values in (C, H, W) order.
    public init(channels: Int, height: Int, width: Int, pixels: [Float]) {
        precondition(
            channels >= 1 && height >= 1 && width >= 1 && pixels.count == channels * height * width,
            "an image of (\(channels), \(height), \(width)) needs \(channels * height * width) values, "
                + "not \(pixels.count)")
        (self.channels, self.height, self.width, self.pixels) = (channels, height, width, pixels)
    }

    /// An image of zeros.
    /// - Parameters:
    ///   - channels: C.
    ///   - height: H.
    ///   - width: W.
    public init(zerosWithChannels channels: Int, height: Int, width: Int) {
        self.init(
            channels: channels, height: height, width: width,
            pixels: [Float](repeating: 0, count: channels * height * width))
    }

    /// Values in one channel.
    public var planeSize: Int { height * width }

    /// The value at channel `c`, row `y`, column `x`.
    public subscript(c: Int, y: Int, x: Int) -> Float {
        get { pixels[(c * height + y) * width + x] }
        set { pixels[(c * height + y) * width + x] = newValue }
    }

    /// A new image of the same shape whose values `body` writes (starting from zeros), reading
    /// this image's; pointers rather than array subscripts keep per-pixel loops cheap.
    func remapped(_ body: (UnsafeBufferPointer<Float>, UnsafeMutableBufferPointer<Float>) -> Void) -> PlanarImage {
        var out = PlanarImage(zerosWithChannels: channels, height: height, width: width)
        pixels.withUnsafeBufferPointer { source in out.pixels.withUnsafeMutableBufferPointer { body(source, $0) } }
        return out
    }
}
