import Foundation
import Models
import NN
import ONNX
import Optim

/// Exports a model, writes its inputs and Tandem's outputs on them as .npy, and has
/// launch/check_onnx.py run onnx's full checker and onnxruntime on them.
enum ONNXRuntimeCheck {
    struct Failure: Error, CustomStringConvertible { let description: String }

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    /// The largest relative error allowed between onnxruntime's and Tandem's fp32 outputs.
    static let tolerance = 1e-4

    /// - Parameters:
    ///   - name: the folder's name (the model).
    ///   - model: the model, as trained.
    ///   - input: what the export declares as the dataset's sample.
    ///   - opset: the operator set to export with.
    ///   - feeds: the graph's inputs by name.
    ///   - expected: Tandem's outputs by name, shaped as the graph's.
    ///   - tolerance: the largest relative error launch/check_onnx.py accepts.
    /// - Returns: the largest relative error onnxruntime showed, and the export.
    @discardableResult
    static func check(
        _ name: String, _ model: any Module, input: ONNXExport.Input, opset: Int = GraphBuilder.defaultOpset,
        feeds: [(String, NDArray)], expected: [(String, NDArray)], tolerance: Double = tolerance
    ) throws -> (error: Double, export: ONNXExport.Exported) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-onnx-\(UUID().uuidString)")
            .appendingPathComponent(name).path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: (folder as NSString).deletingLastPathComponent) }
        let exported = try ONNXExport.export(model, input: input, opset: opset)
        try exported.data.write(to: URL(fileURLWithPath: folder + "/model.onnx"))
        for (n, a) in feeds { try NumpyFile.write(a, to: "\(folder)/input.\(n).npy") }
        for (n, a) in expected { try NumpyFile.write(a, to: "\(folder)/expected.\(n).npy") }
        let (status, said) = try python(["launch/check_onnx.py", folder, "--tolerance", "\(tolerance)"])
        guard status == 0 else { throw Failure(description: "launch/check_onnx.py failed (\(status)): \(said)") }
        guard let line = said.split(separator: "\n").first(where: { $0.contains("max relative error") }),
            let error = Double(line.split(separator: " ").last ?? "")
        else { throw Failure(description: "launch/check_onnx.py printed no error figure: \(said)") }
        print("\(name) (opset \(opset)): onnxruntime max relative error \(error)")
        return (error, exported)
    }

    /// Runs python3 from the package root; its exit status and everything it printed.
    static func python(_ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: packageRoot)
        let pipe = Pipe()
        (process.standardOutput, process.standardError) = (pipe, pipe)
        try process.run()
        let said = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, said)
    }

    /// A few SGD steps on random batches, so batch norm's running statistics and the weights
    /// are not their initial values.
    static func train(_ model: any TrainableModel, batches: [(NDArray, NDArray)], learningRate: Float = 0.05) {
        model.train()
        let arena = model.flattenParameters()
        let sgd = SGD(arena, learningRate: learningRate, momentum: 0.9)
        for (inputs, targets) in batches {
            arena.zeroGrad()
            model.loss(inputs: inputs, targets: targets, labelSmoothing: 0).backward()
            sgd.step()
        }
        model.eval()
    }

    /// The dotted names of the buffers the graphs read: batch norm's running statistics (found by
    /// identity, so whatever the naming, and whatever other buffers a layer keeps).
    static func statisticNames(_ model: any Module) -> [String] {
        let statistics = model.namedModules().compactMap { $0.1 as? BatchNorm }.flatMap {
            [$0.runningMean, $0.runningVar]
        }
        return model.namedBuffers().filter { b in statistics.contains { $0 === b.1 } }.map(\.0)
    }

    /// Uniform floats in [-1, 1) (or [0, 1) for images), from a fixed stream.
    static func floats(_ shape: [Int], seed: UInt64, unit: Bool = false) -> NDArray {
        var rng = PhiloxRNG(seed: seed)
        let a = NDArray(shape: Shape(shape), zeroed: false)
        rng.fillUniform(a.ptr, a.count)
        if !unit { for i in 0..<a.count { a.ptr[i] = 2 * a.ptr[i] - 1 } }
        return a
    }

    /// Token ids in [0, vocabulary).
    static func tokens(_ shape: [Int], vocabulary: Int, seed: UInt64) -> NDArray {
        let u = floats(shape, seed: seed, unit: true)
        return NDArray(
            indices: u.scalars.map { Int32(min(Float(vocabulary - 1), $0 * Float(vocabulary))) }, shape: Shape(shape))
    }

    /// Class labels in [0, classes) for `count` samples.
    static func labels(_ count: Int, classes: Int, seed: UInt64) -> NDArray {
        tokens([count], vocabulary: classes, seed: seed)
    }
}
