import Datasets

/// A text prompt as a language model's token ids, in the vocabulary of the run's corpus.
public enum PromptEncoder {
    /// The ids of `prompt`'s symbols.
    /// - Parameters:
    ///   - prompt: the text to continue (at least one symbol).
    ///   - corpus: the run's training text, whose symbols are the vocabulary.
    /// - Throws: `PredictionMistake` for an empty prompt or one with symbols the training text lacks.
    public static func encode(_ prompt: String, corpus: TextCorpus) throws -> [Int32] {
        let encoded = corpus.encode(prompt)
        guard !encoded.isEmpty else { throw PredictionMistake("the prompt is empty; give at least one character") }
        guard !encoded.contains(nil) else {
            let symbols: [String] =
                corpus.level == .byte
                ? prompt.utf8.map { String(decoding: [$0], as: UTF8.self) } : prompt.unicodeScalars.map { "\($0)" }
            let unknown = Set(zip(symbols, encoded).filter { $0.1 == nil }.map { $0.0.debugDescription })
            throw PredictionMistake(
                "--prompt has characters the model never saw: \(unknown.sorted().joined(separator: ", ")); "
                    + "use characters of the training text")
        }
        return encoded.compactMap { $0 }
    }
}
