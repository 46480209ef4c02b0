/// An IDX file of unsigned bytes (the MNIST and Fashion-MNIST format): a big-endian header
/// `00 00 08 D` with D dimensions, D big-endian UInt32 sizes, then the bytes in row-major order.
public struct IDXFile: Equatable {
    public let dimensions: [Int]
    public let bytes: [UInt8]

    /// Parses `raw` (already decompressed).
    /// - Parameters:
    ///   - raw: the file's bytes.
    ///   - name: the file, for error messages.
    ///   - expectedRank: the number of dimensions the caller needs (3 for images, 1 for labels).
    public init(_ raw: [UInt8], name: String, expectedRank: Int) throws {
        guard raw.count >= 4 else {
            throw DatasetError("\(name) is truncated: \(raw.count) bytes, shorter than an IDX header")
        }
        guard raw[0] == 0, raw[1] == 0, raw[2] == 0x08 else {
            let magic = raw.prefix(4).map { String($0, radix: 16) }.joined(separator: " ")
            throw DatasetError(
                "\(name) has magic \(magic), not an IDX file of unsigned bytes (00 00 08 0\(expectedRank)); is it the right file?"
            )
        }
        let rank = Int(raw[3])
        guard rank == expectedRank else {
            throw DatasetError(
                "\(name) has \(rank) dimensions, expected \(expectedRank) (images have 3, labels 1); are the image and label files swapped?"
            )
        }
        let headerBytes = 4 + 4 * rank
        guard raw.count >= headerBytes else { throw DatasetError("\(name) is truncated inside its header") }
        dimensions = (0..<rank).map { d in
            (0..<4).reduce(0) { $0 << 8 | Int(raw[4 + 4 * d + $1]) }
        }
        let actual = raw.count - headerBytes
        // The sizes come from the file: multiply them without trapping on overflow.
        let expected = dimensions.reduce(Optional(1)) { p, d in
            p.flatMap { $0.multipliedReportingOverflow(by: d) }
                .flatMap { $0.overflow ? nil : $0.partialValue }
        }
        guard let expected else {
            let declared = dimensions.map(String.init).joined(separator: "x")
            throw DatasetError(
                "\(name) declares \(declared) bytes of data, a size past counting; "
                    + "the file is damaged or not an IDX file. Re-download or reinstall it")
        }
        guard actual == expected else {
            throw DatasetError(
                "\(name) declares \(dimensions.map(String.init).joined(separator: "x")) = \(expected) bytes of data "
                    + "but holds \(actual); the file is \(actual < expected ? "truncated" : "too long"). Re-download or reinstall it"
            )
        }
        bytes = Array(raw[headerBytes...])
    }

    /// Encodes dimensions and bytes as an IDX file (for tests and for writing subsets).
    public static func encode(dimensions: [Int], bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0, 0, 0x08, UInt8(dimensions.count)]
        for d in dimensions {
            out += [UInt8(d >> 24 & 0xff), UInt8(d >> 16 & 0xff), UInt8(d >> 8 & 0xff), UInt8(d & 0xff)]
        }
        return out + bytes
    }
}
