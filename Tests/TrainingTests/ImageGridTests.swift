import CZlib
import Foundation
import Testing
import TensorCore
@testable import Training

@Suite("PNG image grids")
struct ImageGridTests {
    /// Splits PNG bytes into (type, data) chunks, checking each CRC-32.
    func chunks(_ png: [UInt8]) -> [(String, [UInt8])] {
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var out: [(String, [UInt8])] = [], at = 8
        func u32(_ i: Int) -> Int { png[i..<(i + 4)].reduce(0) { $0 << 8 | Int($1) } }
        while at < png.count {
            let length = u32(at), body = Array(png[(at + 4)..<(at + 8 + length)])
            #expect(
                u32(at + 8 + length) == Int(crc32(0, body, uInt(body.count))),
                "CRC of \(String(decoding: body.prefix(4), as: UTF8.self))")
            out.append((String(decoding: body.prefix(4), as: UTF8.self), Array(body.dropFirst(4))))
            at += 12 + length
        }
        return out
    }

    @Test func gridOfTwoImagesDecodesToItsPixels() {
        // Two 2x3 grey images, one per column: the grid is 2 + 2·(3 + 2) wide, 2 + 2 + 2 high.
        let images = NDArray([0, 0.5, 1, 0.25, 0.75, 2, -1, 1, 0, 1, 0, 1], shape: [2, 1, 2, 3])
        let png = ImageGrid.png(images, columns: 2)
        let parts = chunks(png)
        #expect(parts.map(\.0) == ["IHDR", "IDAT", "IEND"])
        #expect(Array(parts[0].1) == [0, 0, 0, 12, 0, 0, 0, 6, 8, 0, 0, 0, 0])
        var raw = [UInt8](repeating: 0, count: 6 * 13), size = uLong(raw.count)
        #expect(uncompress(&raw, &size, parts[1].1, uLong(parts[1].1.count)) == Z_OK && size == uLong(raw.count))
        func pixel(_ x: Int, _ y: Int) -> UInt8 { raw[y * 13 + 1 + x] }  // each row starts with its filter byte
        #expect((0..<6).allSatisfy { raw[$0 * 13] == 0 })
        #expect(
            [pixel(2, 2), pixel(3, 2), pixel(4, 2), pixel(2, 3), pixel(3, 3), pixel(4, 3)] == [
                0, 128, 255, 64, 191, 255,
            ])
        #expect([pixel(7, 2), pixel(8, 2), pixel(9, 3)] == [0, 255, 255])  // clipped to [0, 1]
        #expect(pixel(0, 0) == 64 && pixel(5, 2) == 64)  // the border
    }
}
