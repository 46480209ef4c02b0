import CZlib
import Foundation
import TensorCore

/// Images tiled into one grayscale or RGB picture and encoded as PNG, for sample and
/// reconstruction grids in the run directory.
public enum ImageGrid {
    /// Tiles (N, C, H, W) images, C = 1 or 3, values in [0, 1] (clipped), `columns` per row,
    /// with a 2-pixel border, into PNG bytes.
    public static func png(_ images: NDArray, columns: Int) -> [UInt8] {
        let (n, c, h, w) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
        precondition(c == 1 || c == 3, "an image grid needs 1 or 3 channels, got \(c)")
        let cols = max(1, min(columns, n)), pad = 2
        let (width, height) = size(images, columns: columns)
        var pixels = [UInt8](repeating: 64, count: width * height * c)  // dark grey border
        let src = images.ptr
        for i in 0..<n {
            let (gy, gx) = (pad + (i / cols) * (h + pad), pad + (i % cols) * (w + pad))
            for y in 0..<h {
                for x in 0..<w {
                    for ch in 0..<c {
                        let v = src[((i * c + ch) * h + y) * w + x]
                        pixels[((gy + y) * width + gx + x) * c + ch] = UInt8(
                            (min(1, max(0, v.isNaN ? 0 : v)) * 255).rounded())
                    }
                }
            }
        }
        return encode(pixels, width: width, height: height, channels: c)
    }

    /// The grid's (width, height) in pixels, borders included.
    public static func size(_ images: NDArray, columns: Int) -> (width: Int, height: Int) {
        let (n, h, w) = (images.shape[0], images.shape[2], images.shape[3])
        let cols = max(1, min(columns, n)), rows = (n + cols - 1) / cols
        return (cols * (w + 2) + 2, rows * (h + 2) + 2)
    }

    /// PNG bytes of 8-bit pixels, rows top to bottom (filter 0 on every row).
    public static func encode(_ pixels: [UInt8], width: Int, height: Int, channels: Int) -> [UInt8] {
        let stride = width * channels
        var raw = [UInt8](); raw.reserveCapacity((stride + 1) * height)
        for y in 0..<height { raw.append(0); raw += pixels[(y * stride)..<((y + 1) * stride)] }
        var compressedSize = compressBound(uLong(raw.count))
        var compressed = [UInt8](repeating: 0, count: Int(compressedSize))
        let rc = compress2(&compressed, &compressedSize, raw, uLong(raw.count), Z_BEST_COMPRESSION)
        precondition(rc == Z_OK, "zlib could not compress the image: error \(rc)")
        var header = bigEndian(UInt32(width)) + bigEndian(UInt32(height))
        // Bit depth, colour type (grey / RGB), compression, filter, interlace.
        header += [8, channels == 1 ? 0 : 2, 0, 0, 0]
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
            + chunk("IHDR", header) + chunk("IDAT", Array(compressed.prefix(Int(compressedSize)))) + chunk("IEND", [])
    }

    /// Length, type, data and the CRC-32 of type and data.
    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return bigEndian(UInt32(data.count)) + body + bigEndian(UInt32(crc32(0, body, uInt(body.count))))
    }

    static func bigEndian(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
    }
}
