import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file mapped read-only into memory: only the pages that are read become resident, and the
/// kernel may drop them again, so a file larger than memory can be read in pieces.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    /// The file's bytes (empty for an empty file).
    public let bytes: UnsafeRawBufferPointer

    /// Maps the file at `path`.
    /// - Parameter path: a regular file.
    public init(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw DatasetError("cannot open \(path): \(reason.lowercased()); check the path and its permissions")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw DatasetError("cannot read \(path): \(String(cString: strerror(errno)).lowercased())")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw DatasetError(
                "\(path) is \(info.st_mode & S_IFMT == S_IFDIR ? "a folder" : "not a regular file"); "
                    + "give the path of a data file")
        }
        self.path = path
        let size = Int(info.st_size)
        guard size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw DatasetError("cannot map \(path) into memory: \(String(cString: strerror(errno)).lowercased())")
        }
        bytes = UnsafeRawBufferPointer(start: p, count: size)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }

    public var count: Int { bytes.count }

    /// Drops the 2 MiB blocks holding `ranges` from this process's resident memory, after a
    /// batch read its samples there. The kernel maps a whole page-cache folio (up to 2 MiB) for one
    /// fault, so each random window would otherwise keep about 1.7 MB resident
    /// (`launch/bench_data_memory.sh`). The mapping is read-only, so a page another reader still
    /// needs is simply mapped again from the page cache. Each run of adjacent blocks is one call.
    public func releaseBlocks(around ranges: [Range<Int>]) {
        guard let base = bytes.baseAddress else { return }
        let block = 2 << 20
        var blocks: Set<Int> = []
        for range in ranges where !range.isEmpty {
            blocks.formUnion((range.lowerBound / block)...((range.upperBound - 1) / block))
        }
        var sorted = blocks.sorted()[...]
        while let first = sorted.popFirst() {
            var last = first
            while sorted.first == last + 1 { last = sorted.removeFirst() }
            let end = min(bytes.count, (last + 1) * block)
            madvise(UnsafeMutableRawPointer(mutating: base + first * block), end - first * block, Int32(MADV_DONTNEED))
        }
    }

    /// Tells the kernel the bytes in `range` will not be read again soon, so their pages leave
    /// this process's resident memory (a later read maps them in again from the page cache).
    public func release(_ range: Range<Int>) {
        guard let base = bytes.baseAddress, !range.isEmpty else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        // Whole pages inside the range only: a neighbour's page may still be in use.
        let start = (range.lowerBound + page - 1) / page * page
        let end = range.upperBound == bytes.count ? range.upperBound : range.upperBound / page * page
        guard start < end else { return }
        madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, Int32(MADV_DONTNEED))
    }
}
