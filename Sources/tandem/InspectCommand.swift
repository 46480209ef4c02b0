import ArgumentParser
import Checkpoint
import Foundation
import Training

/// `tandem inspect`: what a checkpoint holds.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Verify a checkpoint and print its manifest, tensors, parameter count and validation result.",
        discussion: """
            CHECKPOINT is a checkpoint folder, or a run directory or checkpoints folder (then the newest \
            whole checkpoint, damaged ones reported). Every file's size and CRC-32 are checked first.
            """)

    @Argument(help: "A checkpoint folder, run directory or checkpoints folder.") var checkpoint: String
    @Option(help: "Also print the first N values of every tensor.") var values = 0
    @Flag(help: "Print the manifest as JSON.") var json = false

    func run() throws {
        let located: (folder: String, manifest: CheckpointManifest)
        do {
            guard let found = try ResumePoint.locate(.path(checkpoint), runDirectory: nil) else {
                throw CheckpointError("no checkpoint")
            }
            located = found
        } catch {
            FileHandle.standardError.write(Data("tandem inspect: \(JobFailure.text(error))\n".utf8))
            throw ExitCode(1)
        }
        let (folder, m) = located
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(m), as: UTF8.self))
            return
        }
        print("checkpoint \(folder) (format \(m.formatVersion), all \(m.files.count) files verified)")
        print(
            "step \(m.step), epoch \(m.epoch + 1), \(m.positionInEpoch) samples into the epoch; sampler seed \(m.samplerSeed)"
        )
        print(
            "written by \(m.worldSize) ranks x batch \(m.perRankBatch); config hash \(m.configHash); schedule step \(m.scheduleStep)"
                + (m.lossScaler.map { String(format: "; loss scale %g (%d overflows)", $0.scale, $0.overflows) } ?? ""))
        if !m.validation.isEmpty {
            print(
                "validation: "
                    + m.validation.sorted { $0.key < $1.key }.map { String(format: "%@ %.4f", $0.key, $0.value) }
                    .joined(separator: ", "))
        }
        let parameters = m.tensors.filter { $0.file == ResumePoint.modelFile }.reduce(0) { $0 + $1.shape.reduce(1, *) }
        print("model: \(parameters) values in \(m.tensors.filter { $0.file == ResumePoint.modelFile }.count) tensors")
        if m.tensors.contains(where: { $0.file == ResumePoint.masksFile }) {
            let masks = try SafeTensors.decode(
                Data(contentsOf: URL(fileURLWithPath: folder + "/" + ResumePoint.masksFile)),
                name: ResumePoint.masksFile
            ).tensors
            let sparsities = masks.keys.sorted().map { name -> (String, Int, Int) in
                let v = masks[name]!.scalars
                return (name, v.filter { $0 == 0 }.count, v.count)
            }
            let (pruned, total) = sparsities.reduce((0, 0)) { ($0.0 + $1.1, $0.1 + $1.2) }
            print(
                String(
                    format: "pruning masks (target sparsity %.3f): %.3f of %d masked values pruned",
                    m.pruningSparsity ?? 0,
                    Double(pruned) / Double(max(total, 1)), total))
            for (name, zeros, count) in sparsities {
                print(
                    String(format: "  %@  sparsity %.3f (%d of %d)", name, Double(zeros) / Double(count), zeros, count))
            }
        }
        // file -> tensor -> its first values, read back from the verified files.
        var data: [String: [String: [Float]]] = [:]
        if values > 0 {
            for file in Set(m.tensors.map(\.file)) {
                let decoded = try SafeTensors.decode(
                    Data(contentsOf: URL(fileURLWithPath: folder + "/" + file)), name: file
                ).tensors
                data[file] = decoded.mapValues { Array($0.float32.scalars.prefix(values)) }
            }
        }
        for t in m.tensors {
            var line = "  \(t.file)  \(t.name)  \(t.dtype) \(t.shape)"
            if let v = data[t.file]?[t.name] {
                line += "  " + v.map { String(format: "%.9g", $0) }.joined(separator: " ")
            }
            print(line)
        }
    }
}

/// `tandem export`: a checkpoint's model weights alone.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a checkpoint's model weights alone to one safetensors file, with PyTorch-style dotted names.",
        discussion: "Exit status: 0 on success, 2 when --to is a folder or in a missing folder, 1 when it fails.")

    @Argument(help: "A checkpoint folder, run directory or checkpoints folder.") var checkpoint: String
    @Option(help: "The safetensors file to write.") var to: String

    func run() throws {
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
            // The manifest's order is the model's registration order.
            let ordered = m.tensors.filter { $0.file == ResumePoint.modelFile }.compactMap { r in
                tensors[r.name].map { (r.name, $0) }
            }
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
