import Foundation
import Logging
import Models
import NN

/// Rank 0's pictures of the run: a generative model's image grids, a language model's text and
/// TensorBoard histograms of the weights and gradients (other ranks have no outputs and write
/// nothing).
final class RunSamples {
    let outputs: RunOutputs?
    let model: any TrainableModel
    let data: DataSplits
    let seed: Int
    let logger: Logger
    /// The step of the last image grids and text samples.
    private(set) var lastStep = -1

    /// - Parameters:
    ///   - outputs: rank 0's run directory (nil: write nothing).
    ///   - seed: the run's seed, from which the samples' own random streams start.
    init(outputs: RunOutputs?, model: any TrainableModel, data: DataSplits, seed: Int, logger: Logger) {
        self.outputs = outputs
        self.model = model
        self.data = data
        self.seed = seed
        self.logger = logger
    }

    /// Saves what generative models make: image grids and language models' text.
    /// - Parameters:
    ///   - epoch: the 1-based epoch the files are named after.
    ///   - step: the step the samples are taken at.
    func write(epoch: Int, step: Int) {
        lastStep = step
        writeImageGrids(epoch: epoch, step: step)
        writeTextSample(epoch: epoch, step: step)
    }

    /// A text generator's continuation of a newline, 300 characters at temperature 0.8 from a
    /// fixed seed, as `samples/epoch-NNN.txt` and a TensorBoard text summary.
    func writeTextSample(epoch: Int, step: Int) {
        guard let outputs, let generator = model as? any TextGenerator, let corpus = data.corpus else { return }
        let start = Int32(corpus.symbols.firstIndex(of: UInt32(UInt8(ascii: "\n"))) ?? 0)
        var rng = PhiloxRNG(seed: UInt64(seed))
        let ids = generator.generate(prompt: [start], count: 300, temperature: 0.8, topK: nil, rng: &rng)
        let text = corpus.decode(ids)
        let folder = outputs.directory + "/samples"
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try text.write(toFile: folder + String(format: "/epoch-%03d.txt", epoch), atomically: true, encoding: .utf8)
        } catch {
            logger.warning("the text sample could not be written: \(error.localizedDescription); training goes on")
        }
        outputs.tensorBoard?.text(tag: "samples/text", text, step: step)
    }

    /// The model's image grids (reconstructions, samples, interpolations) of the first
    /// validation images as `images/epoch-NNN-NAME.png`; models without grids do nothing.
    func writeImageGrids(epoch: Int, step: Int) {
        guard let outputs, let reporter = model as? any ImageGridReporter, data.validation.inputShape.rank == 3
        else { return }
        let images = data.validation.batch(ArraySlice(0..<min(16, data.validation.count))).inputs
        var rng = PhiloxRNG(seed: UInt64(seed) &+ UInt64(epoch))  // its own stream: training's is untouched
        // Rank 0 alone runs these forwards: in evaluation mode, so no buffer (batch norm) moves.
        let wasTraining = model.training
        model.eval()
        defer { model.train(wasTraining) }
        let folder = outputs.directory + "/images"
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for grid in reporter.imageGrids(from: images, rng: &rng) {
                let path = folder + String(format: "/epoch-%03d-%@.png", epoch, grid.name)
                let png = ImageGrid.png(grid.images, columns: grid.columns)
                let size = ImageGrid.size(grid.images, columns: grid.columns)
                try Data(png).write(to: URL(fileURLWithPath: path))
                outputs.tensorBoard?.image(
                    tag: "images/\(grid.name)", png: png, width: size.width, height: size.height,
                    channels: grid.images.shape[1], step: step)
            }
        } catch {
            logger.warning(
                "image grids for epoch \(epoch) could not be written: \(error.localizedDescription); training goes on")
        }
    }

    /// A TensorBoard histogram of every parameter and of its gradient (as the optimizer will
    /// apply it: averaged, unscaled and clipped).
    func writeHistograms(of arena: ParameterArena, step: Int) {
        guard let board = outputs?.tensorBoard else { return }
        let scale = arena.gradientScale
        for e in arena.entries {
            let values = Array(UnsafeBufferPointer(start: arena.values.ptr + e.offset, count: e.count))
            let grads = UnsafeBufferPointer(start: arena.grads.ptr + e.offset, count: e.count).map { $0 * scale }
            board.histogram(tag: "weights/\(e.name)", values: values, step: step)
            board.histogram(tag: "gradients/\(e.name)", values: grads, step: step)
        }
    }
}
