import ArgumentParser
import Foundation
import ONNX
import Training

/// `tandem export --format onnx`: the run's model rebuilt from its config, its trained weights
/// loaded, and its forward pass written as an ONNX graph.
extension ExportCommand {
    /// A mistake in --format, --opset or --to, or nil.
    var formatMistake: String? {
        guard ["safetensors", "onnx"].contains(format) else {
            return "--format \(format) is not one of safetensors, onnx"
        }
        if format == "safetensors" {
            if opset != nil { return "--opset applies to --format onnx only; drop it or add --format onnx" }
            if int8 || int8File != nil {
                return "--int8 and --int8-file apply to --format onnx only; add --format onnx"
            }
            if to == nil {
                return "--to is required with --format safetensors: the file to write, e.g. --to model.safetensors"
            }
            return nil
        }
        if let opset, !ONNXExportError.supportedOpsets.contains(opset) {
            return ONNXExportError.opset(opset).description
        }
        guard let to else { return nil }
        if to.hasSuffix("/") || FileManager.default.isFolder(to) {
            let inside = to.hasSuffix("/") ? to : to + "/"
            return "--to \(to) is a folder; give the file to write, e.g. --to \(inside)model.onnx"
        }
        return Self.problem(writing: to)
    }

    /// Writes the ONNX graph of the run (or checkpoint) `checkpoint` names.
    func exportONNX() throws {
        let exported: ONNXExport.Exported, path: String, source: String
        do {
            let (run, weights) = try Self.locateWeights(checkpoint)
            let quantized = int8 || int8File != nil
            let (config, data, fp32) = try Int8ModelFile.loadRun(run, weights: quantized ? nil : weights)
            let int8Path = int8File ?? run + "/" + Int8ModelFile.name
            let model = quantized ? try Int8Export.model(int8Path, run: run, config: config, data: data) : fp32
            let input = ONNXExport.Input(shape: data.train.inputShape.dims, tokens: data.train.inputType == .int32)
            exported = try ONNXExport.export(model, input: input, opset: opset ?? GraphBuilder.defaultOpset)
            let file = quantized ? "/model.int8.onnx" : "/model.onnx"
            (path, source) = (to ?? run + file, quantized ? int8Path : weights)
        } catch {
            FileHandle.standardError.write(Data("tandem export: \(JobFailure.text(error))\n".utf8))
            throw ExitCode(JobFailure.status(of: error))
        }
        do {
            try exported.data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            let reason = FileFailure.describe(error)
            FileHandle.standardError.write(Data("tandem export: cannot write \(path): \(reason)\n".utf8))
            throw ExitCode(1)
        }
        print("wrote \(path) (ONNX opset \(exported.opset), \(exported.data.count) bytes) from \(source)")
        for line in exported.signature { print("  " + line) }
    }

    /// The run directory and the weights to export: a checkpoint folder's, or a run's final
    /// model.safetensors (its latest checkpoint's while it has none).
    static func locateWeights(_ path: String) throws -> (run: String, weights: String) {
        let fm = FileManager.default
        if fm.fileExists(atPath: path + "/manifest.json") {
            _ = try ResumePoint.locate(.path(path), runDirectory: nil)  // verifies the checkpoint's files
            let run = ((path as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
            return (run.isEmpty ? "." : run, path + "/" + ResumePoint.modelFile)
        }
        guard fm.fileExists(atPath: path + "/config.yaml") else {
            throw UsageMistake(
                "\(path) is not a run directory (no config.yaml) or a checkpoint folder (no manifest.json); "
                    + "give the directory tandem train wrote, e.g. tandem export runs/lenet --format onnx")
        }
        if fm.fileExists(atPath: path + "/" + ResumePoint.modelFile) {
            return (path, path + "/" + ResumePoint.modelFile)
        }
        guard let (folder, _) = try ResumePoint.locate(.path(path), runDirectory: nil) else {
            throw UsageMistake("\(path) has no model.safetensors and no checkpoint yet; let its training run save one")
        }
        return (path, folder + "/" + ResumePoint.modelFile)
    }
}

extension FileManager {
    /// Whether `path` is an existing folder.
    fileprivate func isFolder(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
