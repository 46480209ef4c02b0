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
    public static func clusters(count: Int, inputShape: Shape, classes: Int, noise: Float = 1, seed: UInt64 = 0)
        -> TensorDataset
    {
        precondition(
            count > 0 && classes >= 2 && inputShape.count > 0,
            "synthetic data needs samples, 2+ classes and a non-empty shape")
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

    /// A memory task for sequence models: the class is the first token; every later token is
    /// noise drawn from the whole vocabulary, class tokens included, so the model cannot simply
    /// learn to ignore noise tokens: it must keep the first one across `length - 1` steps and
    /// stop taking in what follows, which gated cells (LSTM, GRU) learn and a plain RNN hardly does.
    /// - Parameters:
    ///   - count: sequences.
    ///   - length: tokens per sequence (the gap is length - 1).
    ///   - classes: token ids 0..<classes name the class at the first position.
    ///   - vocabulary: distinct tokens; the noise is uniform over all of them.
    ///   - seed: fixes every token drawn.
    /// - Returns: int32 inputs (N, length) and labels (N).
    public static func memoryTask(count: Int, length: Int, classes: Int, vocabulary: Int, seed: UInt64 = 0)
        -> TensorDataset
    {
        precondition(
            length >= 1 && classes >= 2 && vocabulary > classes,
            "memory task: length >= 1, classes >= 2, vocabulary > classes")
        var ids = [Int32](repeating: 0, count: count * length), labels = [Int32](repeating: 0, count: count)
        for i in 0..<count {
            labels[i] = Int32(i % classes)
            ids[i * length] = labels[i]
            for t in 1..<max(length, 1) {
                let bits = PhiloxRNG.block(seed: seed, counter: UInt64(i * length + t))[0]
                ids[i * length + t] = Int32(bits % UInt32(vocabulary))
            }
        }
        let data = TensorDataset(
            inputs: NDArray(indices: ids, shape: [count, length]), labels: NDArray(indices: labels, shape: [count]),
            classCount: classes)
        data.tokenCount = vocabulary
        return data
    }
}
