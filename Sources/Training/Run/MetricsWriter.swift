import Foundation

/// Appends one JSON object per line to `metrics.jsonl`, flushed after every line so a
/// crashed or killed run keeps everything it logged.
public final class MetricsWriter {
    public let path: String
    private let handle: FileHandle

    public init(path: String) throws {
        self.path = path
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
            }
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
    }

    private var reportedFailure = false

    /// Writes `object` as one line (keys sorted; non-finite numbers become null, which JSON lacks).
    /// A failed write (a full disk) is reported once on standard error; training goes on.
    public func write(_ object: [String: Any]) {
        let clean = object.mapValues(Self.jsonSafe)
        guard let data = try? JSONSerialization.data(withJSONObject: clean, options: [.sortedKeys]) else { return }
        do {
            try handle.write(contentsOf: data + Data("\n".utf8))
            try handle.synchronize()
        } catch {
            if !reportedFailure { FileHandle.standardError.write(Data("tandem: cannot write \(path): \(error); training goes on\n".utf8)) }
            reportedFailure = true
        }
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
