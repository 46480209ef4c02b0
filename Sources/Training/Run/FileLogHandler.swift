import Foundation
import Logging

/// A swift-log handler that appends timestamped lines to the run's log file, and echoes
/// warnings and errors to standard error; every line names its rank.
public struct FileLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let sink: Sink
    private let label: String
    private let rank: Int

    final class Sink: @unchecked Sendable {
        let handle: FileHandle?
        let lock = NSLock()
        init(path: String?) {
            if let path {
                _ = FileManager.default.createFile(atPath: path, contents: nil)
                handle = FileHandle(forWritingAtPath: path)
            } else {
                handle = nil
            }
        }
    }

    /// - Parameters:
    ///   - label: the logger's label.
    ///   - path: the log file; nil writes nothing to disk (ranks other than 0).
    ///   - level: the least severe level written.
    ///   - rank: the process's rank, written at the start of every line.
    public init(label: String, path: String?, level: Logger.Level, rank: Int = 0) {
        self.label = label
        self.rank = rank
        sink = Sink(path: path)
        logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let level = event.level, message = event.message
        let stamp = ISO8601DateFormatter().string(from: Date())
        let text = "\(stamp) [rank \(rank)] \(level) \(message)\n"
        sink.lock.lock()
        try? sink.handle?.write(contentsOf: Data(text.utf8))  // a full disk must not stop training
        sink.lock.unlock()
        // Without a file (ranks other than 0) every line that passes the level goes to standard error.
        if level >= .warning || sink.handle == nil {
            FileHandle.standardError.write(Data("tandem [rank \(rank)]: \(level): \(message)\n".utf8))
        }
    }
}
