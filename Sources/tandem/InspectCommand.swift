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
