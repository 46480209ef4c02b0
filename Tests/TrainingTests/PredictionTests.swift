import Foundation
import Testing

@testable import Training

/// How a prediction is printed: the top classes, the values by target, the JSON for programs.
@Suite struct PredictionTests {
    /// The softmax in double precision, the top classes likeliest first (the lower index on a tie).
    @Test func softmaxAndTopClasses() {
        let p = Prediction.softmax([1, 3, 3, -1000])
        let e1 = Foundation.exp(-2.0), total = 2 + e1 + Foundation.exp(-1002.0)
        #expect(Swift.abs(p[0] - e1 / total) < 1e-15 && Swift.abs(p[1] - 1 / total) < 1e-15)
        #expect(Prediction.top(3, of: p) == [1, 2, 0])
        #expect(Prediction.top(9, of: p) == [1, 2, 0, 3])
    }

    @Test func textNamesTheClassesAndTargets() {
        let classes = Prediction(input: "a.png", output: .classes(logits: [0, 2, 1], names: ["cat", "dog", "eel"]))
        let p = Prediction.softmax([0, 2, 1])
        #expect(
            classes.text(topK: 2)
                == "a.png\n  " + String(format: "%.4f", p[1]) + "  dog\n  " + String(format: "%.4f", p[2]) + "  eel")
        let values = Prediction(input: "t.csv:2", output: .values([1.5, -0.25], names: ["price", "rooms"]))
        #expect(values.text(topK: 5) == "t.csv:2: price 1.5, rooms -0.25")
        let text = Prediction(input: "to", output: .text(prompt: "to", generated: " be", tokens: [1, 2, 3]))
        #expect(text.text(topK: 5) == "to be")
    }

    /// One JSON line with the raw outputs; a diverged model's NaN becomes null rather than an error.
    @Test func jsonHoldsTheRawOutputsAndNullForNaN() throws {
        let line = try Prediction(input: "dir/a.png", output: .classes(logits: [.nan, 1], names: ["x", "y"]))
            .jsonLine(topK: 1)
        #expect(!line.contains("\n") && line.contains("\"input\":\"dir/a.png\""))
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
        #expect((object["logits"] as! [Any])[0] is NSNull && (object["logits"] as! [Any])[1] as? Double == 1)
        let values = try Prediction(input: "r", output: .values([2.5], names: ["y"])).jsonLine(topK: 1)
        let decoded = try JSONSerialization.jsonObject(with: Data(values.utf8)) as! [String: Any]
        #expect(decoded["values"] as? [String: Double] == ["y": 2.5] && decoded["outputs"] as? [Double] == [2.5])
    }
}
