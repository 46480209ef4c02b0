import Synchronization

/// The image files left out because they could not be read, shared by an image folder's
/// splits; safe to add to from the loaders' background threads.
public final class SkippedImageLog: Sendable {
    /// One file left out and why.
    public struct Entry: Equatable, Sendable, CustomStringConvertible {
        public let path: String
        /// What is wrong with it, e.g. "truncated (the file ends inside the PNG data)".
        public let reason: String
        public var description: String { "\(path): \(reason)" }
    }

    private let entries = Mutex<[Entry]>([])

    public init() {}

    /// Every file skipped so far, in the order they were found.
    public var all: [Entry] { entries.withLock { $0 } }
    /// How many files were skipped so far.
    public var count: Int { entries.withLock { $0.count } }

    /// Records `path` as skipped.
    /// - Parameters:
    ///   - path: the file.
    ///   - reason: what is wrong with it.
    func add(_ path: String, reason: String) { entries.withLock { $0.append(Entry(path: path, reason: reason)) } }
}
