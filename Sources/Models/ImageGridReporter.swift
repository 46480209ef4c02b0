import NN

/// A model that can show what it learnt as images (reconstructions, samples, interpolations).
public protocol ImageGridReporter: Module {
    /// Named grids of images in [0, 1], each (count, channels, height, width) with its number
    /// of columns, made from a batch of held-out images.
    /// - Parameters:
    ///   - images: (N, C, H, W) held-out inputs.
    ///   - rng: the stream for any sampling.
    func imageGrids(from images: NDArray, rng: inout PhiloxRNG) -> [(name: String, images: NDArray, columns: Int)]
}
