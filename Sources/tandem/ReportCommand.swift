import ArgumentParser
import Foundation
import Training

/// `tandem report`: a run directory as one self-contained HTML page.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract:
            "Write an HTML page of a run: loss, metric, lr, loss-scale and throughput plots, results, config, checkpoints, images."
    )

    @Argument(help: "The run directory.") var runDirectory: String
    @Option(help: "Where to write the page (default: RUN_DIR/report.html).") var output: String?

    func run() throws {
        let path = output ?? runDirectory + "/report.html"
        do {
            try RunReport.html(runDirectory: runDirectory).write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            FileHandle.standardError.write(Data("tandem report: \(JobFailure.text(error))\n".utf8))
            throw ExitCode(2)
        }
        print(path)
    }
}
