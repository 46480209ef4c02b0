import Checkpoint
import Foundation
import NN

/// A model's parameters and buffers in one safetensors file, under their dotted names.
public enum ModelWeights {
    /// Writes every parameter and buffer of `model` to `path` (rank 0 only), via a temporary
    /// file and a rename so a reader never sees half a file.
    public static func save(_ model: any Module, to path: String, metadata: [String: String] = [:]) throws {
        let tensors =
            model.namedParameters().map { ($0.0, $0.1.data) } + model.namedBuffers().map { ($0.0, $0.1.value) }
        let data = try SafeTensors.encode(tensors, metadata: metadata)
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

    /// Loads `path` into `model`; every parameter and buffer must be present with its shape.
    public static func load(_ model: any Module, from path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckpointError("cannot read model weights \(path): the file is missing or unreadable")
        }
        let (tensors, _) = try SafeTensors.decode(data, name: path)
        let targets =
            model.namedParameters().map { ($0.0, $0.1.data) } + model.namedBuffers().map { ($0.0, $0.1.value) }
        for (name, array) in targets {
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
