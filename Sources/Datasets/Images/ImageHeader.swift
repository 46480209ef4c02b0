/// What an image file's header says, read without decoding its pixels.
public struct ImageHeader: Equatable, Sendable {
    public enum Format: String, Sendable { case png = "PNG", jpeg = "JPEG" }

    public let format: Format
    public let width: Int
    public let height: Int
    /// Samples per pixel as decoded: 1 grey, 2 grey and alpha, 3 RGB, 4 RGBA (a palette is RGB,
    /// with alpha when it has a tRNS chunk).
    public let samplesPerPixel: Int
    /// Bits per sample as decoded: 8, or 16 for a 16-bit PNG.
    public let bitDepth: Int

    public init(format: Format, width: Int, height: Int, samplesPerPixel: Int, bitDepth: Int) {
        (self.format, self.width, self.height) = (format, width, height)
        (self.samplesPerPixel, self.bitDepth) = (samplesPerPixel, bitDepth)
    }

    /// Colour channels, alpha left out: 1 (grey) or 3 (RGB).
    public var colorChannels: Int { samplesPerPixel <= 2 ? 1 : 3 }
    /// The size as height x width, the order of `data.image_size`.
    public var sizeText: String { "\(height)x\(width)" }
}
