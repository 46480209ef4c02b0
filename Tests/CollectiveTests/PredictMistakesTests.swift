import Foundation
import Testing

/// `tandem predict`'s user mistakes, made with the real binary on the suite's trained runs:
/// each ends with status 2 and a message naming the problem and its fix (docs/TROUBLESHOOTING.md).
extension MPIJobs.PredictEndToEndTests {
    /// (mistake, arguments, text the message must contain); `{images}`, `{table}`, `{text}` and `{base}`
    /// stand for the runs and their folder.
    static let mistakes: [(String, [String], String)] = [
        (
            "an unknown file type", ["{images}", "{images}/config.yaml"],
            "{images}/config.yaml: unknown file type (a .yaml file)"
        ),
        ("a missing input", ["{images}", "{base}/nothing.png"], "{base}/nothing.png: no such file or folder"),
        (
            "a CSV without a feature column", ["{table}", "{base}/no-b.csv"],
            "{base}/no-b.csv has no feature column 'b'"
        ),
        (
            "an array of the wrong shape", ["{images}", "{base}/wrong.npy"],
            "{base}/wrong.npy has shape (5) but the model reads samples of shape (1, 8, 8)"
        ),
        ("a prompt for a classifier", ["{images}", "--prompt", "hello"], "--prompt is for language models"),
        (
            "an image for a language model", ["{text}", "{base}/folder/test/top/0.png"],
            "continues a text prompt, not an image ({base}/folder/test/top/0.png); give the text with --prompt TEXT"
        ),
        ("a language model without a prompt", ["{text}"], "give the text to continue with --prompt TEXT"),
        (
            "a CSV row for an image model", ["{images}", "{base}/test.csv"],
            "is a CSV row, but the run's model reads images"
        ),
        (
            "an image for a table model", ["{table}", "{base}/folder/test/top/0.png"],
            "but the run's model reads table rows"
        ),
        (
            "a prompt with unknown characters", ["{text}", "--prompt", "Zebra"],
            "characters the model never saw: \"Z\""
        ),
        ("a run without its model file", ["{base}/unfinished", "{base}/folder"], "has no model file"),
        (
            "a folder that is not a run", ["{base}/folder", "{base}/folder"],
            "is not a run directory (it has no config.yaml)"
        ),
        ("a folder without images", ["{images}", "{base}/empty"], "is a folder without images"),
        ("a damaged image", ["{images}", "{base}/damaged.png"], "{base}/damaged.png: "),
    ]

    /// The files the mistakes name.
    static func prepareMistakes(_ runs: Runs) throws {
        let base = runs.base
        try "colour,a\nred,1\n".write(toFile: base + "/no-b.csv", atomically: true, encoding: .utf8)
        try PredictFixtures.npy([1, 2, 3, 4, 5], shape: [5]).write(to: URL(fileURLWithPath: base + "/wrong.npy"))
        try FileManager.default.createDirectory(atPath: base + "/unfinished", withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: base + "/unfinished/config.yaml")
        try FileManager.default.copyItem(atPath: runs.images + "/config.yaml", toPath: base + "/unfinished/config.yaml")
        try FileManager.default.createDirectory(atPath: base + "/empty", withIntermediateDirectories: true)
        let png = PredictFixtures.png(PredictFixtures.image(0, seed: 1), width: 8, height: 8)
        try Data(png.prefix(png.count - 30)).write(to: URL(fileURLWithPath: base + "/damaged.png"))
    }

    static func substitute(_ text: String, _ runs: Runs) -> String {
        text.replacingOccurrences(of: "{images}", with: runs.images)
            .replacingOccurrences(of: "{table}", with: runs.table)
            .replacingOccurrences(of: "{text}", with: runs.text).replacingOccurrences(of: "{base}", with: runs.base)
    }

    @Test func eachMistakeExitsWithStatusTwoAndItsMessage() throws {
        let runs = try Self.runs.get()
        try Self.prepareMistakes(runs)
        for (mistake, arguments, message) in Self.mistakes {
            let run = try Self.predict(arguments.map { Self.substitute($0, runs) })
            #expect(run.status == 2, "\(mistake): status \(run.status), \(run.stderr)")
            #expect(run.stderr.hasPrefix("tandem predict: "), "\(mistake): \(run.stderr)")
            #expect(run.stderr.contains(Self.substitute(message, runs)), "\(mistake): \(run.stderr)")
            #expect(run.stderr.split(separator: "\n").count == 1, "\(mistake): one line, no trace: \(run.stderr)")
            #expect(run.stdout.isEmpty, "\(mistake): \(run.stdout)")
        }
    }

    /// Under mpirun a mistake in one rank's share (the damaged image is the second rank's) ends
    /// both ranks with status 2, the message said once, and nothing printed.
    @Test func aMistakeInOneRanksShareEndsEveryRank() throws {
        let runs = try Self.runs.get()
        try Self.prepareMistakes(runs)
        let run = try Self.predict(
            [runs.images, runs.folder + "/test/top/0.png", runs.base + "/damaged.png"], ranks: 2)
        #expect(run.status == 2, "\(run.stderr)")
        let said = run.stderr.components(separatedBy: "tandem predict: \(runs.base)/damaged.png").count - 1
        #expect(said == 1, "\(run.stderr)")
        #expect(run.stdout.isEmpty, "\(run.stdout)")
    }
}
