import Foundation
import Logging

/// A swift-log handler that appends timestamped lines to the run's log file, and echoes
/// warnings and errors to standard error.
public struct FileLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let sink: Sink
    private let label: String

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
    public init(label: String, path: String?, level: Logger.Level) {
        self.label = label
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
        let text = "\(stamp) \(level) \(message)\n"
        sink.lock.lock()
        try? sink.handle?.write(contentsOf: Data(text.utf8))  // a full disk must not stop training
        sink.lock.unlock()
        if level >= .warning { FileHandle.standardError.write(Data("tandem: \(level): \(message)\n".utf8)) }
    }
}
