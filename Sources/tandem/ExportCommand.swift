import ArgumentParser
import Checkpoint
import Foundation
import Training

/// `tandem export`: a checkpoint's model weights alone, or (`--format onnx`) the trained model as an ONNX graph.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract:
            "Write a checkpoint's model weights alone to one safetensors file, with PyTorch-style dotted names, "
            + "or (--format onnx) the trained model as an ONNX graph.",
        discussion: """
            --format onnx writes the model's evaluation-mode forward pass as model.onnx (opset 17 by default), \
            with a symbolic batch axis; its inputs and outputs are listed in docs/INTEROP.md. With --int8 it \
            writes the int8 model that `tandem quantize` made (--int8-file, or RUN/model.int8.safetensors) in \
            QuantizeLinear/DequantizeLinear form, as RUN/model.int8.onnx.

            Exit status: 0 on success, 2 for a mistake in the command line (--to a folder or in a missing folder, \
            an unknown --format, an --opset outside 17...21, --int8 without --format onnx), 1 when it fails.
            """)

    @Argument(help: "A checkpoint folder, run directory or checkpoints folder.") var checkpoint: String
    @Option(help: "The file to write (required for safetensors; onnx: RUN/model.onnx, with --int8 model.int8.onnx).")
    var to: String?
    @Option(help: "safetensors (the weights alone) or onnx (the model as an ONNX graph).") var format = "safetensors"
    @Option(help: "The ONNX operator set version, 17...21 (--format onnx only; default 17).") var opset: Int?
    @Flag(help: "With --format onnx: the int8 model of `tandem quantize` in QDQ form (RUN/model.int8.onnx).")
    var int8 = false
    @Option(help: "The int8 file to export (implies --int8; default RUN/model.int8.safetensors).") var int8File: String?

    func run() throws {
        if let mistake = formatMistake {
            FileHandle.standardError.write(Data("tandem export: \(mistake)\n".utf8))
            throw ExitCode(2)
        }
        if format == "onnx" { return try exportONNX() }
        guard let to else { return }  // formatMistake has required it
        if let mistake = Self.problem(writing: to) {
            FileHandle.standardError.write(Data("tandem export: \(mistake)\n".utf8))
            throw ExitCode(2)
        }
        let bytes: Data, count: Int, step: Int
        do {
            guard let (folder, m) = try ResumePoint.locate(.path(checkpoint), runDirectory: nil) else {
                throw CheckpointError("no checkpoint")
            }
            let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + ResumePoint.modelFile))
            let tensors = try SafeTensors.decode(data, name: folder + "/" + ResumePoint.modelFile).tensors
            // The manifest's order is the model's registration order; an older checkpoint's names
            // are written as the current (PyTorch) ones.
            let stored = m.tensors.filter { $0.file == ResumePoint.modelFile }.compactMap { r in
                tensors[r.name].map { (r.name, $0) }
            }
            let ordered = LegacyTensorNames.upgraded(stored).tensors
            let metadata = ["step": "\(m.step)", "config_hash": m.configHash, "format": "pt"]
            bytes = try SafeTensors.encode(ordered, metadata: metadata)
            (count, step) = (ordered.count, m.step)
        } catch {
            FileHandle.standardError.write(Data("tandem export: \(JobFailure.text(error))\n".utf8))
            throw ExitCode(1)
        }
        do {
            try bytes.write(to: URL(fileURLWithPath: to), options: .atomic)
        } catch {
            let reason = FileFailure.describe(error)
            FileHandle.standardError.write(Data("tandem export: cannot write \(to): \(reason)\n".utf8))
            throw ExitCode(1)
        }
        print("wrote \(count) tensors of step \(step) to \(to)")
    }

    /// Why `path` cannot be the file to write, or nil: a folder, or a file in a missing folder.
    static func problem(writing path: String) -> String? {
        func isFolder(_ p: String) -> Bool {
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: p, isDirectory: &isDirectory) && isDirectory.boolValue
        }
        if path.hasSuffix("/") || isFolder(path) {
            let inside = path.hasSuffix("/") ? path : path + "/"
            return "--to \(path) is a folder; give the file to write, e.g. --to \(inside)model.safetensors"
        }
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty, !isFolder(folder) {
            return "--to \(path): the folder \(folder) does not exist; "
                + "create it (mkdir -p \(folder)) or write elsewhere"
        }
        return nil
    }
}
