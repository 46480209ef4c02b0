import Checkpoint
import Foundation
import NN

/// A model's parameters and buffers in one safetensors file, under the names the equivalent
/// `torch.nn` module's `state_dict` uses, with `{"format": "pt"}` metadata.
public enum ModelWeights {
    /// The named arrays a model saves, in registration order: parameters then buffers, a
    /// tensor shared under two names (tied weights) once, under its first name, as
    /// safetensors' `save_model` writes it.
    public static func tensors(of model: any Module) -> [(String, NDArray)] {
        var seen = Set<ObjectIdentifier>()
        let parameters = model.namedParameters().filter { seen.insert(ObjectIdentifier($0.1)).inserted }
        let buffers = model.namedBuffers().filter { seen.insert(ObjectIdentifier($0.1)).inserted }
        return parameters.map { ($0.0, $0.1.data) } + buffers.map { ($0.0, $0.1.value) }
    }

    /// Writes every parameter and buffer of `model` to `path` (rank 0 only), via a temporary
    /// file and a rename so a reader never sees half a file.
    /// - Parameters:
    ///   - model: the model.
    ///   - path: the file to write.
    ///   - metadata: added to `{"format": "pt"}`.
    public static func save(_ model: any Module, to path: String, metadata: [String: String] = [:]) throws {
        let data = try SafeTensors.encode(tensors(of: model), metadata: metadata.merging(["format": "pt"]) { $1 })
        let temporary = path + ".tmp"
        do {
            try CheckpointStore.writeDurably(data, to: temporary)
            guard rename(temporary, path) == 0 else {
                throw CheckpointError("cannot move \(temporary) to \(path): \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)  // a half-written file would only hold the space
            throw error
        }
    }

    /// A file's tensors under `model`'s names. A file written before tensors took PyTorch's names
    /// holds them under the Swift property paths (`runningMean`, `recurrent.layers.0.weightIH`),
    /// and has no batch norm counters, which then read as 0.
    /// - Parameters:
    ///   - tensors: the file's tensors by name.
    ///   - model: the model they are for.
    /// - Returns: the tensors with every old name the model has replaced by its current one.
    public static func current(_ tensors: [String: NDArray], for model: any Module) -> [String: NDArray] {
        let names = model.namedParameters().map(\.0) + model.namedBuffers().map(\.0)
        let old = model.namedParameters(swiftNames: true).map(\.0) + model.namedBuffers(swiftNames: true).map(\.0)
        var out = tensors, renamed = false
        for (name, oldName) in zip(names, old) where name != oldName && tensors[name] == nil {
            guard let stored = tensors[oldName] else { continue }
            (out[name], out[oldName], renamed) = (stored, nil, true)
        }
        if renamed {
            for (name, buffer) in model.namedBuffers() where out[name] == nil && buffer.value.dtype == .int64 {
                out[name] = NDArray(shape: buffer.value.shape, dtype: .int64)
            }
        }
        return out
    }

    /// Loads `path` into `model`; every parameter and buffer must be present with its shape.
    /// A file written before PyTorch names is read under the current ones (see `current(_:for:)`).
    public static func load(_ model: any Module, from path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckpointError("cannot read model weights \(path): the file is missing or unreadable")
        }
        let tensors = current(try SafeTensors.decode(data, name: path).tensors, for: model)
        for (name, array) in self.tensors(of: model) {
            guard let stored = tensors[name] else {
                throw CheckpointError(
                    "\(path) has no tensor \(name); it was saved from a different model (its config.yaml must match)")
            }
            guard stored.shape == array.shape, stored.dtype == array.dtype else {
                throw CheckpointError(
                    "\(path): \(name) is \(stored.dtype) \(stored.shape.dims) but the model needs \(array.dtype) \(array.shape.dims)"
                )
            }
            array.assign(stored)
        }
    }
}
