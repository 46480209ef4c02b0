import Checkpoint
import Foundation
import NN

/// A non-strict `model.init_from` (`model.init_strict: false`): the tensors of a weights file
/// whose name and shape match the model are loaded, and the rest is reported.
///
/// Fine-tuning with a new head is the case it serves: a classifier trained on ten classes
/// gives its convolutions to a model for five, whose last layer starts afresh.
public struct PartialWeightLoad: Equatable, Sendable {
    /// A tensor of the file that was not loaded: its saved shape, and the model's (nil: the
    /// model has no tensor of that name).
    public struct Skipped: Equatable, Sendable {
        public let name: String
        public let saved: [Int]
        public let model: [Int]?
    }

    /// A tensor of the model that keeps its fresh initialisation.
    public struct Fresh: Equatable, Sendable {
        public let name: String
        public let shape: [Int]
    }

    /// The model's tensors that were loaded, in model order.
    public let loaded: [String]
    /// The file's tensors that were not, in name order.
    public let skipped: [Skipped]
    /// The model's tensors absent from the file or of another shape there, in model order.
    public let fresh: [Fresh]

    /// Loads into `model` (parameters and buffers) every tensor of `path` whose name, shape and
    /// element type match.
    /// - Parameters:
    ///   - model: the freshly initialised model.
    ///   - path: a .safetensors file.
    /// - Throws: when the file cannot be read, or when no tensor matches (the wrong file).
    public static func load(_ model: any Module, from path: String) throws -> PartialWeightLoad {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckpointError("cannot read model weights \(path): the file is missing or unreadable")
        }
        let tensors = ModelWeights.current(try SafeTensors.decode(data, name: path).tensors, for: model)
        let targets =
            model.namedParameters().map { ($0.0, $0.1.data) } + model.namedBuffers().map { ($0.0, $0.1.value) }
        var loaded: [String] = [], fresh: [Fresh] = []
        var matches: [(NDArray, NDArray)] = []
        for (name, array) in targets {
            if let stored = tensors[name], stored.shape == array.shape, stored.dtype == array.dtype {
                loaded.append(name)
                matches.append((array, stored))
            } else {
                fresh.append(Fresh(name: name, shape: array.shape.dims))
            }
        }
        let shapes = Dictionary(targets.map { ($0.0, $0.1.shape.dims) }, uniquingKeysWith: { a, _ in a })
        let taken = Set(loaded)
        let skipped = tensors.keys.filter { !taken.contains($0) }.sorted().map {
            Skipped(name: $0, saved: tensors[$0]!.shape.dims, model: shapes[$0])
        }
        guard !loaded.isEmpty else {
            throw CheckpointError(
                "no tensor of \(path) matches this model by name and shape (the file has "
                    + "\(Self.list(tensors.keys.sorted(), 6)); the model has \(Self.list(targets.map(\.0), 6))); "
                    + "it holds another model's weights")
        }
        for (target, stored) in matches { target.assign(stored) }
        return PartialWeightLoad(loaded: loaded, skipped: skipped, fresh: fresh)
    }

    /// The load in one line: counts, then every skipped and every fresh tensor with its shapes.
    public var summary: String {
        let skippedText = skipped.map {
            "\($0.name) \($0.saved) (\($0.model.map { "model \($0)" } ?? "not in the model"))"
        }
        let freshText = fresh.map { "\($0.name) \($0.shape)" }
        return "loaded \(loaded.count) of \(loaded.count + fresh.count) tensors; skipped from the file: "
            + (skippedText.isEmpty ? "none" : skippedText.joined(separator: ", "))
            + "; initialised afresh: " + (freshText.isEmpty ? "none" : freshText.joined(separator: ", "))
    }

    /// The first `limit` names, and how many more.
    static func list(_ names: [String], _ limit: Int) -> String {
        names.isEmpty
            ? "no tensors"
            : names.prefix(limit).joined(separator: ", ")
                + (names.count > limit ? " and \(names.count - limit) more" : "")
    }
}
