import Foundation
import Logging
import Testing
@testable import Training

@Suite("Rank-aware logging")
struct RankLoggingTests {
    /// Every line names its rank, and the level filters what is written.
    @Test func linesNameTheRankAndFollowTheLevel() throws {
        let path = NSTemporaryDirectory() + "tandem-log-\(UUID().uuidString).log"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let logger = Logger(label: "tandem") { FileLogHandler(label: $0, path: path, level: .notice, rank: 3) }
        logger.info("hidden")
        logger.notice("shown")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!text.contains("hidden") && text.contains("[rank 3] notice shown"), "\(text)")
    }
}
