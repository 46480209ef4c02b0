import TensorCore

/// Gaussian clusters of any input shape: class k's samples are its own random centre plus
/// noise, so a model can learn them and tests and benchmarks need no files.
public enum SyntheticDataset {
    /// - Parameters:
    ///   - count: samples.
    ///   - inputShape: one sample's shape, e.g. [1, 28, 28] or [20].
    ///   - classes: number of clusters; labels cycle 0, 1, ..., classes-1.
    ///   - noise: standard deviation around the unit-variance centres.
    ///   - seed: fixes centres and noise (samples depend only on seed and index).
    public static func clusters(count: Int, inputShape: Shape, classes: Int, noise: Float = 1, seed: UInt64 = 0) -> TensorDataset {
        precondition(count > 0 && classes >= 2 && inputShape.count > 0, "synthetic data needs samples, 2+ classes and a non-empty shape")
        let d = inputShape.count
        var centreRNG = PhiloxRNG(seed: seed)
        let centres = [Float](unsafeUninitializedCapacity: classes * d) { buf, n in
            centreRNG.fillNormal(buf.baseAddress!, classes * d); n = classes * d
        }
        let x = NDArray(shape: Shape([count] + inputShape.dims), zeroed: false)
        var noiseRNG = PhiloxRNG(seed: seed &+ 0x9E37_79B9)
        noiseRNG.fillNormal(x.ptr, count * d, std: noise)
        var labels = [Int32](repeating: 0, count: count)
        for i in 0..<count {
            let k = i % classes
            labels[i] = Int32(k)
            for j in 0..<d { x.ptr[i * d + j] += centres[k * d + j] }
        }
        return TensorDataset(inputs: x, labels: NDArray(indices: labels, shape: [count]), classCount: classes)
    }
}
