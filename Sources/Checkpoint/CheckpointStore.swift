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
    public func write(name: String, files: [String: Data], updateLatest: Bool = true,
                      manifest: ([String: FileRecord]) throws -> Data) throws -> String {
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let final = directory + "/" + name, temporary = directory + "/.tmp-" + name
        if fm.fileExists(atPath: temporary) { try fm.removeItem(atPath: temporary) }
        try fm.createDirectory(atPath: temporary, withIntermediateDirectories: false)
        var records: [String: FileRecord] = [:]
        for (file, data) in files {
            try Self.writeDurably(data, to: temporary + "/" + file)
            records[file] = FileRecord(bytes: data.count, crc32: Self.crc32(data))
        }
        try Self.writeDurably(manifest(records), to: temporary + "/" + Self.manifestName)
        try Self.fsync(path: temporary)
        if fm.fileExists(atPath: final) { try fm.removeItem(atPath: final) }
        guard rename(temporary, final) == 0 else { throw CheckpointError("cannot rename \(temporary) to \(final): \(String(cString: strerror(errno)))") }
        try Self.fsync(path: directory)
        if updateLatest {
            try Self.writeDurably(Data((name + "\n").utf8), to: directory + "/latest.tmp")
            guard rename(directory + "/latest.tmp", directory + "/latest") == 0 else {
                throw CheckpointError("cannot update \(directory)/latest: \(String(cString: strerror(errno)))")
            }
            try Self.fsync(path: directory)
        }
        return final
    }

    /// Checkpoint folders of the sequence, newest first (by step); `latest`'s target first of all.
    public func candidates() -> [String] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasPrefix("step-") }.sorted(by: >)
        guard let latest = try? String(contentsOfFile: directory + "/latest", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines), names.contains(latest) else { return names }
        return [latest] + names.filter { $0 != latest }
    }

    /// The manifest of folder `name` after checking that every file it lists is there with
    /// its size and checksum.
    public func verify(_ name: String) throws -> Data {
        let folder = directory + "/" + name
        guard let data = FileManager.default.contents(atPath: folder + "/" + Self.manifestName) else {
            throw CheckpointError("\(folder) has no \(Self.manifestName) (an interrupted write?)")
        }
        struct Files: Decodable { let files: [String: FileRecord] }
        guard let listed = try? JSONDecoder().decode(Files.self, from: data) else {
            throw CheckpointError("\(folder)/\(Self.manifestName) is not a valid manifest (damaged or truncated)")
        }
        for (file, record) in listed.files.sorted(by: { $0.key < $1.key }) {
            guard let contents = FileManager.default.contents(atPath: folder + "/" + file) else {
                throw CheckpointError("\(folder)/\(file) is missing")
            }
            guard contents.count == record.bytes else {
                throw CheckpointError("\(folder)/\(file) has \(contents.count) bytes, the manifest says \(record.bytes) (truncated?)")
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
        var skipped: [String] = []
        for name in candidates() {
            do { return ((name, try verify(name)), skipped) } catch { skipped.append("\(error)") }
        }
        return (nil, skipped)
    }

    /// Deletes all but the newest `keep` checkpoints of the sequence (and leftover temporary folders).
    public func retain(keep: Int) {
        let fm = FileManager.default
        let names = ((try? fm.contentsOfDirectory(atPath: directory)) ?? [])
        for leftover in names where leftover.hasPrefix(".tmp-") { try? fm.removeItem(atPath: directory + "/" + leftover) }
        for old in names.filter({ $0.hasPrefix("step-") }).sorted(by: >).dropFirst(max(keep, 1)) {
            try? fm.removeItem(atPath: directory + "/" + old)
        }
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

    static func writeDurably(_ data: Data, to path: String) throws {
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
        guard Glibc.fsync(fd) == 0 else { throw CheckpointError("cannot fsync \(path): \(String(cString: strerror(errno)))") }
    }

    static func fsync(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw CheckpointError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard Glibc.fsync(fd) == 0 else { throw CheckpointError("cannot fsync \(path): \(String(cString: strerror(errno)))") }
    }
}
