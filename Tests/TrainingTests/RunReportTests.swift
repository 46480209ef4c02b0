import Foundation
import Testing
@testable import Training

@Suite("tandem report")
struct RunReportTests {
    @Test func pageHoldsPlotsResultsConfigAndCheckpoints() throws {
        let dir = NSTemporaryDirectory() + "tandem-report-\(UUID().uuidString)"
        try FileManager.default.createDirectory(
            atPath: dir + "/checkpoints/step-00000004", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "step-00000004\n".write(toFile: dir + "/checkpoints/latest", atomically: true, encoding: .utf8)
        try "model:\n  name: mlp & co\n".write(toFile: dir + "/config.yaml", atomically: true, encoding: .utf8)
        try """
        {"step":2,"epoch":0,"loss":1.5,"lr":0.1,"grad_norm":2.0,"samples_per_s":100}
        {"step":4,"epoch":0,"loss":0.9,"lr":0.05,"grad_norm":1.0,"samples_per_s":120}
        {"split":"validation","step":4,"epoch":0,"samples":10,"loss":1.0,"accuracy":0.6}
        {"split":"test","step":4,"epoch":0,"samples":10,"loss":1.1,"accuracy":0.5,"confusion_matrix":[[3,2],[3,2]]}
        """.write(toFile: dir + "/metrics.jsonl", atomically: true, encoding: .utf8)
        let page = try RunReport.html(runDirectory: dir)
        // The loss plot has the two training points as a line and validation as a point.
        #expect(page.contains("<polyline fill=\"none\" stroke=\"#1f77b4\"") && page.contains("<circle"))
        for title in [">loss<", ">lr<", ">grad_norm<", ">samples_per_s<", ">validation accuracy<"] {
            #expect(page.contains(title), "\(title)")
        }
        #expect(page.contains("<table class=\"confusion\">") && page.contains("<td>3</td><td>2</td>"))
        #expect(
            page.contains("Final results (test)") && page.contains("step-00000004 (latest)")
                && page.contains("name: mlp &amp; co"))
        #expect(throws: TrainingError.self) { try RunReport.html(runDirectory: dir + "/nothing") }
    }
}
