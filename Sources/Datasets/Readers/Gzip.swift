import CZlib
import Foundation

/// Decompresses gzip files with the system zlib.
public enum Gzip {
    /// The decompressed bytes of `bytes`, which must be one complete gzip stream.
    /// - Parameters:
    ///   - bytes: the compressed file's contents.
    ///   - name: the file, for error messages.
    public static func decompress(_ bytes: [UInt8], name: String) throws -> [UInt8] {
        guard bytes.count >= 18, bytes[0] == 0x1f, bytes[1] == 0x8b else {
            throw DatasetError("\(name) is not a gzip file (it does not start with 1f 8b); re-download or reinstall it")
        }
        var stream = z_stream()
        // 15 + 16: a gzip header and trailer (with its CRC check), not a raw zlib stream.
        guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DatasetError("zlib could not start decompressing \(name)")
        }
        defer { inflateEnd(&stream) }
        var out = [UInt8](), chunk = [UInt8](repeating: 0, count: 1 << 20)
        out.reserveCapacity(bytes.count * 4)
        var input = bytes
        var status: Int32 = Z_OK
        input.withUnsafeMutableBufferPointer { inp in
            stream.next_in = inp.baseAddress
            stream.avail_in = UInt32(inp.count)
            repeat {
                chunk.withUnsafeMutableBufferPointer { c in
                    stream.next_out = c.baseAddress
                    stream.avail_out = UInt32(c.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    out.append(contentsOf: c.prefix(c.count - Int(stream.avail_out)))
                }
            } while status == Z_OK
        }
        switch status {
        case Z_STREAM_END: return out
        case Z_BUF_ERROR:
            throw DatasetError("\(name) is truncated (the gzip stream ends early); re-download or reinstall it")
        default: throw DatasetError("\(name) is corrupt (zlib error \(status)); re-download or reinstall it")
        }
    }

    /// Reads and decompresses the file at `path`.
    public static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DatasetError("cannot read \(path): the file is missing or unreadable")
        }
        return try decompress([UInt8](data), name: path)
    }
}
