import Foundation

/// What the model made of one input, and how the command prints it.
public struct Prediction: Equatable, Sendable {
    /// The model's answer.
    public enum Output: Equatable, Sendable {
        /// A classifier's logits, with the class names in label order.
        case classes(logits: [Float], names: [String])
        /// A regressor's values, with the target columns' names.
        case values([Float], names: [String])
        /// A language model's continuation of `prompt` (and the generated token ids).
        case text(prompt: String, generated: String, tokens: [Int32])
    }

    /// The input's name: a file, `FILE:LINE`, `FILE[i]`, or the prompt.
    public let input: String
    public let output: Output

    /// Softmax of the logits, in Double (the largest logit subtracted first, so none overflows).
    public static func softmax(_ logits: [Float]) -> [Double] {
        let top = Double(logits.max() ?? 0)
        let e = logits.map { Foundation.exp(Double($0) - top) }
        let sum = e.reduce(0, +)
        return e.map { $0 / sum }
    }

    /// The `k` likeliest classes, likeliest first (the lower index first on a tie).
    public static func top(_ k: Int, of probabilities: [Double]) -> [Int] {
        Array(probabilities.indices.sorted { (probabilities[$0], $1) > (probabilities[$1], $0) }.prefix(k))
    }

    /// The lines a person reads.
    /// - Parameter topK: classes shown for a classifier.
    public func text(topK: Int) -> String {
        switch output {
        case .classes(let logits, let names):
            let p = Self.softmax(logits)
            let rows = Self.top(topK, of: p).map { "  " + String(format: "%.4f", p[$0]) + "  " + names[$0] }
            return ([input] + rows).joined(separator: "\n")
        case .values(let values, let names):
            let pairs = zip(names, values).map { "\($0) " + String(format: "%.6g", Double($1)) }
            return input + ": " + pairs.joined(separator: ", ")
        case .text(let prompt, let generated, _):
            return prompt + generated
        }
    }

    /// One JSON object for programs: the input, and the top classes with every probability and
    /// the logits, the values by target, or the prompt and the generated text and tokens.
    /// - Parameter topK: classes listed in `top_k`.
    public func json(topK: Int) -> [String: Any] {
        switch output {
        case .classes(let logits, let names):
            let p = Self.softmax(logits)
            let top = Self.top(topK, of: p).map {
                ["class": names[$0], "index": $0, "probability": Self.number(p[$0])] as [String: Any]
            }
            return [
                "input": input, "top_k": top, "probabilities": p.map(Self.number), "logits": logits.map(Self.number),
                "classes": names,
            ]
        case .values(let values, let names):
            return [
                "input": input, "values": Dictionary(zip(names, values.map(Self.number))) { first, _ in first },
                "outputs": values.map(Self.number), "targets": names,
            ]
        case .text(let prompt, let generated, let tokens):
            return ["input": input, "prompt": prompt, "generated": generated, "tokens": tokens.map(Int.init)]
        }
    }

    /// A JSON number, or null for NaN and infinity (which JSON cannot hold: a diverged model's outputs).
    static func number(_ value: Double) -> Any { value.isFinite ? value : NSNull() }

    /// A JSON number, or null for NaN and infinity.
    static func number(_ value: Float) -> Any { number(Double(value)) }

    /// `json(topK:)` as one line of text (keys sorted).
    public func jsonLine(topK: Int) throws -> String {
        let data = try JSONSerialization.data(
            withJSONObject: json(topK: topK), options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}
