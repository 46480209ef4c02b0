import CZlib
import Foundation

/// One file of a checkpoint as the manifest records it.
public struct FileRecord: Codable, Equatable, Sendable {
    public let bytes: Int
    /// CRC-32 (zlib's) of the file's contents.
    public let crc32: UInt32
}

/// The checkpoints of one run: folders `step-00001234/` under a directory, each holding
/// data files and `manifest.json`, and a `latest` file naming the newest complete one.
///
/// A folder is written under a temporary name, every file and the folder are fsynced, the
/// folder is renamed into place, and `latest` is replaced last, so a crash at any point
/// leaves either the old state or the new one. Reading verifies sizes and checksums and
/// falls back, folder by folder, to the newest one that is whole.
public struct CheckpointStore: Sendable {
    public let directory: String
    public static let manifestName = "manifest.json"

    public init(directory: String) { self.directory = directory }

    /// The folder name of the checkpoint at `step`.
    public static func name(step: Int, tag: String = "step") -> String { String(format: "%@-%08d", tag, step) }

    /// Writes one checkpoint atomically and points `latest` at it.
    /// - Parameters:
    ///   - name: the folder name (`name(step:)`).
    ///   - files: file name to contents.
    ///   - manifest: builds the manifest JSON from the files' records (sizes and checksums).
    ///   - updateLatest: false for checkpoints kept beside the sequence (the best one).
    /// - Returns: the folder's path.
    @discardableResult
    public func write(
        name: String, files: [String: Data], updateLatest: Bool = true,
        manifest: ([String: FileRecord]) throws -> Data
    ) throws -> String {
        let fm = FileManager.default
        let final = directory + "/" + name, temporary = directory + "/.tmp-" + name
        do {
            try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
            if fm.fileExists(atPath: temporary) { try fm.removeItem(atPath: temporary) }
            try fm.createDirectory(atPath: temporary, withIntermediateDirectories: false)
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw CheckpointError("cannot create \(temporary): \((error as NSError).localizedDescription)")
        }
        // A failed write leaves nothing behind to hold the space: not the folder, not `latest.tmp`.
        var done = false
        defer {
            if !done {
                try? fm.removeItem(atPath: temporary)
                try? fm.removeItem(atPath: directory + "/latest.tmp")
            }
        }
        var records: [String: FileRecord] = [:]
        for (file, data) in files {
            try Self.writeDurably(data, to: temporary + "/" + file)
            records[file] = FileRecord(bytes: data.count, crc32: Self.crc32(data))
        }
        try Self.writeDurably(manifest(records), to: temporary + "/" + Self.manifestName)
        try Self.fsync(path: temporary)
        if fm.fileExists(atPath: final) { try? fm.removeItem(atPath: final) }
        guard rename(temporary, final) == 0 else {
            throw CheckpointError("cannot rename \(temporary) to \(final): \(String(cString: strerror(errno)))")
        }
        try Self.fsync(path: directory)
        if updateLatest {
            try Self.writeDurably(Data((name + "\n").utf8), to: directory + "/latest.tmp")
            guard rename(directory + "/latest.tmp", directory + "/latest") == 0 else {
                throw CheckpointError("cannot update \(directory)/latest: \(String(cString: strerror(errno)))")
            }
            try Self.fsync(path: directory)
        }
        done = true
        return final
    }

    /// Checkpoint folders of the sequence, newest first (by step); `latest`'s target first of all.
    public func candidates() -> [String] {
        let names = folders()
        guard let latest = latestName(), names.contains(latest) else { return names }
        return [latest] + names.filter { $0 != latest }
    }

    /// The sequence's folders, newest first by step.
    private func folders() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasPrefix("step-") }
            .sorted(by: >)
    }

    /// What `latest` names, trimmed (nil when there is no `latest`).
    private func latestName() -> String? {
        guard let data = FileManager.default.contents(atPath: directory + "/latest") else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Why `latest` cannot be followed (garbage, or a folder that is gone), or nil when it can or
    /// there is none.
    public func latestProblem() -> String? {
        guard let latest = latestName() else { return nil }
        let printable = latest.unicodeScalars.allSatisfy { $0.isASCII && $0.value >= 0x20 } && latest.count <= 64
        let instead = "the newest whole checkpoint by step is used instead"
        guard printable else {
            return
                "\(directory)/latest holds \(latest.utf8.count) bytes that are no checkpoint name (damaged or edited?); \(instead)"
        }
        guard latest.hasPrefix("step-") else {
            return "\(directory)/latest holds \"\(latest)\", not a checkpoint name (damaged or edited?); \(instead)"
        }
        return folders().contains(latest)
            ? nil : "\(directory)/latest names \"\(latest)\", which is not there (deleted?); \(instead)"
    }

    /// The manifest of folder `name` after checking that every file it lists is there with
    /// its size and checksum.
    public func verify(_ name: String) throws -> Data {
        let folder = directory + "/" + name
        guard let data = try Self.contents(of: folder + "/" + Self.manifestName) else {
            throw CheckpointError("\(folder) has no \(Self.manifestName) (an interrupted write?)")
        }
        struct Files: Decodable { let files: [String: FileRecord] }
        guard let listed = try? JSONDecoder().decode(Files.self, from: data) else {
            throw CheckpointError("\(folder)/\(Self.manifestName) is not a valid manifest (damaged or truncated)")
        }
        for (file, record) in listed.files.sorted(by: { $0.key < $1.key }) {
            guard let contents = try Self.contents(of: folder + "/" + file) else {
                throw CheckpointError("\(folder)/\(file) is missing")
            }
            guard contents.count == record.bytes else {
                throw CheckpointError(
                    "\(folder)/\(file) has \(contents.count) bytes, the manifest says \(record.bytes) (truncated?)")
            }
            guard Self.crc32(contents) == record.crc32 else {
                throw CheckpointError("\(folder)/\(file) fails its checksum (corrupted)")
            }
        }
        return data
    }

    /// The newest whole checkpoint: (folder name, manifest), and the problems of newer ones
    /// that were passed over.
    public func newestValid() -> (found: (name: String, manifest: Data)?, skipped: [String]) {
        var skipped = latestProblem().map { [$0] } ?? []
        for name in candidates() {
            do { return ((name, try verify(name)), skipped) } catch {
                skipped.append("skipping a damaged checkpoint: \(error)")
            }
        }
        return (nil, skipped)
    }

    /// The bytes of `path`; nil when it does not exist; an error in words when it exists but
    /// cannot be read (a folder in its place, an I/O error, no permission).
    public static func contents(of path: String) throws -> Data? {
        let fd = open(path, O_RDONLY)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw CheckpointError("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var data = Data(), buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n == 0 { return data }
            guard n > 0 else { throw CheckpointError("cannot read \(path): \(String(cString: strerror(errno)))") }
            data.append(contentsOf: buffer[..<n])
        }
    }

    /// Deletes all but the newest `keep` checkpoints of the sequence (and leftover temporary folders).
    public func retain(keep: Int) {
        let fm = FileManager.default
        let names = ((try? fm.contentsOfDirectory(atPath: directory)) ?? [])
        for leftover in names where leftover.hasPrefix(".tmp-") {
            try? fm.removeItem(atPath: directory + "/" + leftover)
        }
        for old in names.filter({ $0.hasPrefix("step-") }).sorted(by: >).dropFirst(max(keep, 1)) {
            try? fm.removeItem(atPath: directory + "/" + old)
        }
    }

    /// Deletes the oldest checkpoint of the sequence unless it is the newest whole one, to make
    /// room on a full disk. - Returns: the folder removed, or nil when there was none to spare.
    public func removeOldest() -> String? {
        let newest = newestValid().found?.name
        guard let oldest = folders().last, oldest != newest else { return nil }
        let path = directory + "/" + oldest
        return (try? FileManager.default.removeItem(atPath: path)) == nil ? nil : path
    }

    /// zlib's CRC-32 of `data`.
    public static func crc32(_ data: Data) -> UInt32 {
        data.withUnsafeBytes { raw -> UInt32 in
            var crc = CZlib.crc32(0, nil, 0)
            var offset = 0
            while offset < raw.count {
                let n = min(raw.count - offset, 1 << 30)
                crc = CZlib.crc32(crc, raw.baseAddress!.assumingMemoryBound(to: UInt8.self) + offset, UInt32(n))
                offset += n
            }
            return UInt32(crc)
        }
    }

    /// Writes `data` to `path` and fsyncs it; errors name the path and the reason in words.
    public static func writeDurably(_ data: Data, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw CheckpointError("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        try data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                guard n > 0 else { throw CheckpointError("cannot write \(path): \(String(cString: strerror(errno)))") }
                offset += n
            }
        }
        guard Glibc.fsync(fd) == 0 else {
            throw CheckpointError("cannot fsync \(path): \(String(cString: strerror(errno)))")
        }
    }

    static func fsync(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw CheckpointError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard Glibc.fsync(fd) == 0 else {
            throw CheckpointError("cannot fsync \(path): \(String(cString: strerror(errno)))")
        }
    }
}
