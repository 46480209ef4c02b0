import CZlib

/// An `.npz` archive: a zip of `.npy` files, as `np.savez` and `np.savez_compressed` write.
///
/// Stored entries (`np.savez`) are read in place from the mapped archive; deflated entries
/// (`np.savez_compressed`) are decompressed into memory with zlib when opened, so only
/// `np.savez` keeps a large array out of memory.
public final class NumpyArchive: @unchecked Sendable {
    public let path: String
    /// The entries' names without `.npy`, in archive order (the keys given to `np.savez`).
    public let keys: [String]
    private let file: MappedFile
    private let entries: [String: Entry]

    private struct Entry {
        let method: Int, flags: Int, crc: UInt32
        let compressedSize: Int, size: Int, headerOffset: Int
    }

    /// Reads the archive's directory.
    /// - Parameter path: the `.npz` file.
    public init(path: String) throws {
        self.path = path
        file = try MappedFile(path: path)
        let b = file.bytes
        func fail(_ what: String) -> DatasetError {
            DatasetError("\(path) is not a readable .npz archive (\(what)); write it again with np.savez")
        }
        func u16(_ at: Int) -> Int { Int(b[at]) | Int(b[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        func u64(_ at: Int) -> Int { u32(at) | u32(at + 4) << 32 }
        // The end-of-central-directory record: 22 bytes plus a comment of up to 64 KiB, at the end.
        var end = b.count - 22
        while end >= max(0, b.count - 22 - 65_535), u32(end) != 0x0605_4b50 { end -= 1 }
        guard b.count >= 22, end >= 0, u32(end) == 0x0605_4b50 else {
            throw fail("no zip directory at its end: it is truncated or not a zip file")
        }
        var total = u16(end + 10), directoryStart = u32(end + 16)
        // Zip64: the real counts live in a second record, found through a locator just before.
        if end >= 20, u32(end - 20) == 0x0706_4b50 {
            let record = u64(end - 20 + 8)
            guard record >= 0, record <= b.count - 56, u32(record) == 0x0606_4b50 else {
                throw fail("bad zip64 record")
            }
            (total, directoryStart) = (u64(record + 32), u64(record + 48))
        }
        var offset = directoryStart, names: [String] = [], entries: [String: Entry] = [:]
        guard total >= 0 else { throw fail("a negative entry count") }
        for _ in 0..<total {
            guard offset >= 0, offset <= b.count - 46, u32(offset) == 0x0201_4b50 else {
                throw fail("a damaged directory entry at byte \(offset)")
            }
            let nameLength = u16(offset + 28), extraLength = u16(offset + 30), commentLength = u16(offset + 32)
            guard offset + 46 + nameLength + extraLength <= b.count else { throw fail("the directory is truncated") }
            let name = String(decoding: b[(offset + 46)..<(offset + 46 + nameLength)], as: UTF8.self)
            var size = u32(offset + 24), compressed = u32(offset + 20), header = u32(offset + 42)
            // Zip64 extra field (id 1): 64-bit values for the 32-bit fields that hold 0xFFFFFFFF.
            var extra = offset + 46 + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd {
                let id = u16(extra), length = u16(extra + 2)
                if id == 1 {
                    var p = extra + 4
                    if size == 0xFFFF_FFFF, p + 8 <= extraEnd { (size, p) = (u64(p), p + 8) }
                    if compressed == 0xFFFF_FFFF, p + 8 <= extraEnd { (compressed, p) = (u64(p), p + 8) }
                    if header == 0xFFFF_FFFF, p + 8 <= extraEnd { header = u64(p) }
                }
                extra += 4 + length
            }
            let key = name.hasSuffix(".npy") ? String(name.dropLast(4)) : name
            names.append(key)
            entries[key] = Entry(
                method: u16(offset + 10), flags: u16(offset + 8), crc: UInt32(u32(offset + 16)),
                compressedSize: compressed, size: size, headerOffset: header)
            offset = extraEnd + commentLength
        }
        (keys, self.entries) = (names, entries)
    }

    /// The array saved under `key` (with or without `.npy`).
    public func array(_ key: String) throws -> NumpyArray {
        let key = key.hasSuffix(".npy") ? String(key.dropLast(4)) : key
        let name = "\(path) (array '\(key)')"
        guard let e = entries[key] else {
            throw DatasetError(
                "\(path) holds no array '\(key)'; it holds \(keys.map { "'\($0)'" }.joined(separator: ", "))")
        }
        let b = file.bytes
        func damaged(_ what: String) -> DatasetError {
            DatasetError("\(name) is damaged (\(what)); write the archive again with np.savez")
        }
        guard e.headerOffset >= 0, e.headerOffset <= b.count - 30,
            b.load(fromByteOffset: e.headerOffset, as: UInt8.self) == 0x50
        else { throw damaged("its local header is missing") }
        let h = e.headerOffset
        let start = h + 30 + (Int(b[h + 26]) | Int(b[h + 27]) << 8) + (Int(b[h + 28]) | Int(b[h + 29]) << 8)
        guard e.compressedSize >= 0, start <= b.count, e.compressedSize <= b.count - start else {
            throw damaged("it runs past the end of the file: the archive is truncated")
        }
        guard e.flags & 1 == 0 else { throw DatasetError("\(name) is encrypted; save the arrays with np.savez") }
        let stored = UnsafeRawBufferPointer(rebasing: b[start..<(start + e.compressedSize)])
        switch e.method {
        case 0:
            return try NumpyArrayFile.parse(stored, owner: file, name: name)
        case 8:
            let buffer = try inflate(stored, size: e.size, crc: e.crc, name: name)
            return try NumpyArrayFile.parse(UnsafeRawBufferPointer(buffer.bytes), owner: buffer, name: name)
        default:
            throw DatasetError(
                "\(name) is compressed with zip method \(e.method); save the arrays with np.savez (stored) "
                    + "or np.savez_compressed (deflate)")
        }
    }

    /// Memory that a decompressed entry lives in.
    private final class Buffer {
        let bytes: UnsafeMutableRawBufferPointer
        init(count: Int) { bytes = .allocate(byteCount: max(count, 1), alignment: 64) }
        deinit { bytes.deallocate() }
    }

    /// Decompresses a raw deflate stream of `size` bytes and checks its CRC-32.
    private func inflate(_ input: UnsafeRawBufferPointer, size: Int, crc: UInt32, name: String) throws -> Buffer {
        guard size < Int(UInt32.max), input.count < Int(UInt32.max) else {
            throw DatasetError(
                "\(name) is a compressed entry of \(size) bytes, too large to decompress into memory; "
                    + "save the arrays with np.savez (uncompressed) so they are read in place")
        }
        let out = Buffer(count: size)
        var stream = z_stream()
        // -15: a raw deflate stream, as zip stores it (no zlib or gzip wrapper).
        guard inflateInit2_(&stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DatasetError("zlib could not start decompressing \(name)")
        }
        defer { inflateEnd(&stream) }
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = UInt32(input.count)
        stream.next_out = out.bytes.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.avail_out = UInt32(size)
        let status = CZlib.inflate(&stream, Z_FINISH)
        guard status == Z_STREAM_END, Int(stream.total_out) == size else {
            throw DatasetError(
                "\(name) does not decompress (zlib status \(status), \(stream.total_out) of \(size) bytes): "
                    + "the archive is damaged or truncated; write it again")
        }
        let actual = UInt32(crc32(0, out.bytes.baseAddress!.assumingMemoryBound(to: Bytef.self), UInt32(size)))
        guard actual == crc else { throw DatasetError("\(name) fails its CRC-32 check: the archive is damaged") }
        return out
    }
}
