import CImage

/// Reads PNG and JPEG files with libpng and libjpeg-turbo into float images in [0, 1].
///
/// PNG: 1, 2, 4, 8 and 16 bits, grey, grey and alpha, RGB, RGBA and palettes (with tRNS),
/// interlaced or not; 16-bit samples are scaled by 65535, all others by 255. JPEG: baseline and
/// progressive, greyscale and colour (YCbCr or RGB), decoded as Pillow does (libjpeg's defaults).
/// Alpha is dropped, as Pillow's `convert("RGB")` and `convert("L")` do.
public enum ImageDecoder {
    /// File name extensions taken as images, in lower case.
    public static let fileExtensions: Set<String> = ["png", "jpg", "jpeg"]

    /// The header of the image at `path`: format, size and samples. Reads the start of the file
    /// and its last bytes; a file that does not end as a complete image is decoded in full, so
    /// a truncated file is found here rather than at training time.
    /// - Parameters:
    ///   - path: the image file.
    /// - Throws: `DatasetError` naming the file and what is wrong with it.
    public static func header(of path: String) throws -> ImageHeader {
        var info = tandem_image_info()
        try call(path) { tandem_image_probe(path, &info, $0) }
        return header(info)
    }

    /// Decodes the image at `path`.
    /// - Parameters:
    ///   - path: the image file.
    ///   - channels: 1 or 3 to convert (see `PlanarImage.converted(toChannels:)`); nil keeps the
    ///     file's colour channels.
    /// - Throws: `DatasetError` naming the file and what is wrong with it.
    public static func decode(_ path: String, channels: Int? = nil) throws -> PlanarImage {
        var info = tandem_image_info()
        var raw: UnsafeMutableRawPointer?
        try call(path) { tandem_image_decode(path, &info, &raw, $0) }
        defer { tandem_image_free(raw) }
        let h = header(info), plane = h.width * h.height, colors = h.colorChannels
        var pixels = [Float](repeating: 0, count: colors * plane)
        pixels.withUnsafeMutableBufferPointer { out in
            if h.bitDepth == 16 {
                let src = raw!.assumingMemoryBound(to: UInt16.self)
                for c in 0..<colors {
                    for i in 0..<plane { out[c * plane + i] = Float(src[i * h.samplesPerPixel + c]) / 65535 }
                }
            } else {
                let src = raw!.assumingMemoryBound(to: UInt8.self)
                for c in 0..<colors {
                    for i in 0..<plane { out[c * plane + i] = levels[Int(src[i * h.samplesPerPixel + c])] }
                }
            }
        }
        let image = PlanarImage(channels: colors, height: h.height, width: h.width, pixels: pixels)
        return channels.map { image.converted(toChannels: $0) } ?? image
    }

    /// v / 255 for every 8-bit level (a division per sample, without its cost).
    private static let levels = (0..<256).map { Float($0) / 255 }

    private static func call(_ path: String, _ body: (UnsafeMutablePointer<CChar>) -> Int32) throws {
        var error = [CChar](repeating: 0, count: TANDEM_IMAGE_ERROR_SIZE)
        let status = error.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
        if status != 0 {
            let reason = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw DatasetError("\(path): \(reason)")
        }
    }

    private static func header(_ info: tandem_image_info) -> ImageHeader {
        ImageHeader(
            format: Int(info.format) == TANDEM_IMAGE_PNG ? .png : .jpeg, width: Int(info.width),
            height: Int(info.height), samplesPerPixel: Int(info.channels), bitDepth: Int(info.bit_depth))
    }
}
