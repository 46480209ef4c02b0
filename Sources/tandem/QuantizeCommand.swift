import ArgumentParser
import Foundation
import Training

/// `tandem quantize`: a run's trained model as int8.
struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract:
            "Quantize a trained model (a run's final model or one of its checkpoints) to int8 and write model.int8.safetensors into the run directory.",
        discussion: """
            Every linear layer, convolution (grouped and depthwise too) and recurrent input projection gets \
            int8 weights, symmetric, with one scale per output channel; norms, attention, recurrent state \
            updates and residual adds stay fp32. Each int8 layer's input is calibrated on a random sample of \
            the training set: minmax takes the whole range seen, percentile clips the rarest values. \
            Evaluate the result with `tandem eval RUN --int8`. --form fused keeps the activations in bytes \
            from layer to layer, for \(InferencePlan.supported.joined(separator: " and ")) with ReLU.

            Exit status: 0 on success, 2 for a mistake in the command line or the run's config, 1 when it fails.
            """)

    @Argument(
        help: ArgumentHelp(
            "A finished run directory (config.yaml and model.safetensors), or one of its checkpoint folders.",
            valueName: "run-or-checkpoint")) var path: String
    @Option(help: "Activation calibration: minmax or percentile.") var calibration: String = "minmax"
    @Option(help: "The percentile kept by --calibration percentile (e.g. 99.99).") var percentile: Double = 99.99
    @Option(help: "Training samples the calibration runs on.") var samples: Int = 2048
    @Option(help: "The file to write (default: RUN/model.int8.safetensors).") var output: String?
    @Option(help: "auto (fused where the model has it), fused, or layers (int8 inside each layer).")
    var form: String = "auto"

    func validate() throws {
        guard ActivationCalibration.Method(rawValue: calibration) != nil else {
            throw ValidationError("--calibration \(calibration) is not one of minmax, percentile")
        }
        guard percentile > 50 && percentile <= 100 else {
            throw ValidationError("--percentile \(percentile) must be in (50, 100]")
        }
        guard samples >= 1 else { throw ValidationError("--samples must be at least 1") }
        guard Int8ModelFile.Form(rawValue: form) != nil else {
            throw ValidationError("--form \(form) is not one of auto, fused, layers")
        }
    }

    func run() throws {
        do {
            // A checkpoint folder (RUN/checkpoints/step-N) quantizes its weights with the run's config.
            let isCheckpoint = FileManager.default.fileExists(atPath: path + "/manifest.json")
            let run =
                isCheckpoint
                ? ((path as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent : path
            if isCheckpoint { _ = try ResumePoint.locate(.path(path), runDirectory: nil) }  // verifies its files
            let s = try Int8ModelFile.quantize(
                runDirectory: run.isEmpty ? "." : run, method: ActivationCalibration.Method(rawValue: calibration)!,
                percentile: percentile, samples: samples, output: output, checkpoint: isCheckpoint ? path : nil,
                form: Int8ModelFile.Form(rawValue: form)!)
            for l in s.layers {
                print(
                    String(
                        format: "%@: input range [%.4g, %.4g] -> scale %.4g, zero point %d", l.name, l.low, l.high,
                        l.scale, l.zeroPoint))
            }
            if !s.unused.isEmpty {
                print("left fp32 (not reached by the model's forward pass): \(s.unused.joined(separator: ", "))")
            }
            print(
                String(
                    format: "wrote %@ (%@): %d bytes (fp32 model.safetensors: %d bytes, %.2fx smaller)", s.path,
                    s.form.rawValue, s.bytes,
                    s.floatBytes,
                    Double(s.floatBytes) / Double(max(s.bytes, 1))))
        } catch {
            FileHandle.standardError.write(Data("tandem quantize: \(JobFailure.text(error))\n".utf8))
            throw ExitCode(JobFailure.status(of: error))
        }
    }
}
