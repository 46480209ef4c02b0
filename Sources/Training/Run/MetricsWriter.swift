import Checkpoint
import Foundation

/// Appends one JSON object per line to `metrics.jsonl`, flushed after every line so a
/// crashed or killed run keeps everything it logged.
///
/// A line is written whole or not at all: a write that fails part-way (a full disk) is cut
/// back to the last whole line, so the file always parses. A torn last line left by a crash
/// is removed when the file is opened again.
public final class MetricsWriter {
    public let path: String
    private var handle: FileHandle
    /// Bytes of whole lines in the file.
    private var length: UInt64
    private var reportedFailure = false
    /// What opening the file repaired (a torn last line), for the run's log; nil when nothing.
    public private(set) var repairNote: String?

    public init(path: String) throws {
        self.path = path
        let fm = FileManager.default
        if !fm.fileExists(atPath: path) && !fm.createFile(atPath: path, contents: nil) {
            throw TrainingError("cannot create \(path): \(FileFailure.reason(errno)); choose a writable --run-dir")
        }
        guard let handle = FileHandle(forUpdatingAtPath: path) else {
            throw TrainingError(
                "cannot open \(path) for writing: \(FileFailure.reason(errno)); choose a writable --run-dir")
        }
        self.handle = handle
        let contents = (try? handle.readToEnd()) ?? Data()
        length = UInt64(contents.count)
        if let last = contents.last, last != UInt8(ascii: "\n") {
            let whole = contents.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
            repairNote =
                "\(path) ended in a torn line of \(contents.count - whole) bytes (a write cut off by a crash "
                + "or a full disk); it was removed, the \(contents[..<whole].filter { $0 == UInt8(ascii: "\n") }.count) whole lines kept"
            length = UInt64(whole)
            try? handle.truncate(atOffset: length)
        }
        try? handle.seek(toOffset: length)
    }

    /// Writes `object` as one line (keys sorted; non-finite numbers become null, which JSON lacks).
    /// A failed write (a full disk) is reported once on standard error, in words, and cut back;
    /// training goes on.
    public func write(_ object: [String: Any]) {
        let clean = object.mapValues(Self.jsonSafe)
        guard let data = try? JSONSerialization.data(withJSONObject: clean, options: [.sortedKeys]) else { return }
        let line = data + Data("\n".utf8)
        do {
            try handle.write(contentsOf: line)
            try handle.synchronize()
            length += UInt64(line.count)
        } catch {
            try? handle.truncate(atOffset: length)  // no half line for a reader or a resume to trip on
            if !reportedFailure {
                let text =
                    "tandem: warning: cannot write \(path): \(FileFailure.describe(error)); "
                    + "metrics lines are skipped until there is room, training goes on\n"
                FileHandle.standardError.write(Data(text.utf8))
            }
            reportedFailure = true
        }
    }

    /// Removes the lines of steps after `step` (rank 0, when a run resumes from a checkpoint at
    /// `step`: those steps are trained again, and their new lines replace the old).
    /// - Returns: the number of lines removed.
    @discardableResult
    public func rewind(toStep step: Int) throws -> Int {
        try? handle.seek(toOffset: 0)
        let contents = (try? handle.readToEnd()) ?? Data()
        var kept = Data(), removed = 0
        for line in contents.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]
            if let s = object?["step"] as? Int, s > step { removed += 1; continue }
            kept.append(contentsOf: line)
            kept.append(UInt8(ascii: "\n"))
        }
        if removed > 0 {
            do {
                try CheckpointStore.writeDurably(kept, to: path + ".tmp")
                guard rename(path + ".tmp", path) == 0 else {
                    throw CheckpointError("cannot replace \(path): \(FileFailure.reason(errno))")
                }
            } catch {
                try? FileManager.default.removeItem(atPath: path + ".tmp")
                throw TrainingError(
                    "cannot rewrite \(path) for the resumed run: \(error); free some space and resume again")
            }
            try? handle.close()
            guard let reopened = FileHandle(forUpdatingAtPath: path) else {
                throw TrainingError("cannot open \(path) for writing: \(FileFailure.reason(errno))")
            }
            handle = reopened
            length = UInt64(kept.count)
        }
        try? handle.seek(toOffset: length)
        return removed
    }

    public static func jsonSafe(_ value: Any) -> Any {
        switch value {
        case let d as Double: return d.isFinite ? d : NSNull()
        case let f as Float: return f.isFinite ? Double(f) : NSNull()
        case let a as [Double]: return a.map(jsonSafe)
        default: return value
        }
    }

    deinit { try? handle.close() }
}
