/// The regular files of a tar archive (ustar, with GNU long names and pax headers skipped).
public enum TarArchive {
    /// (path, contents) of every regular file, in archive order.
    /// - Parameters:
    ///   - bytes: the uncompressed archive.
    ///   - name: the archive, for error messages.
    public static func files(_ bytes: [UInt8], name: String) throws -> [(path: String, contents: [UInt8])] {
        var out: [(String, [UInt8])] = []
        var offset = 0
        var longName: String?
        func field(_ start: Int, _ length: Int) -> String {
            let slice = bytes[(offset + start)..<(offset + start + length)]
            return String(decoding: slice.prefix { $0 != 0 }, as: UTF8.self)
        }
        while offset + 512 <= bytes.count {
            if bytes[offset..<(offset + 512)].allSatisfy({ $0 == 0 }) { return out }  // end-of-archive block
            let sizeText = field(124, 12).trimmingCharacters(in: " ")
            guard let size = Int(sizeText, radix: 8), size >= 0 else {
                throw DatasetError(
                    "\(name) is not a valid tar archive (bad size field at byte \(offset)); re-download it")
            }
            let type = bytes[offset + 156]
            let start = offset + 512
            guard size <= bytes.count - start else {
                throw DatasetError("\(name) is truncated: an entry of \(size) bytes runs past the end; re-download it")
            }
            let contents = Array(bytes[start..<(start + size)])
            switch type {
            case UInt8(ascii: "L"):
                longName = String(decoding: contents.prefix { $0 != 0 }, as: UTF8.self)
            case 0, UInt8(ascii: "0"):
                let prefix = field(345, 155)
                let path = longName ?? (prefix.isEmpty ? field(0, 100) : prefix + "/" + field(0, 100))
                out.append((path, contents))
                longName = nil
            default:
                longName = nil  // directories, links, pax headers
            }
            offset = start + (size + 511) / 512 * 512
        }
        throw DatasetError("\(name) is truncated: the tar archive has no end-of-archive block; re-download it")
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        String(drop { $0 == set }.reversed().drop { $0 == set }.reversed())
    }
}
