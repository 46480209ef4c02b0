import TensorCore

/// The tensor names of model files written before Tandem saved PyTorch's names, and how they
/// read today, for a reader that has no model to ask (`tandem export` of an old checkpoint; a
/// built model maps its own old names, see `ModelWeights.current`).
///
/// Batch norm's `runningMean` and `runningVar` are `running_mean` and `running_var` now, with a
/// `num_batches_tracked` beside them (absent from old files: it reads as 0); a recurrent stack's
/// `layers.L.weightIH`, `weightHH`, `biasIH` and `biasHH` are `weight_ih_lL` and so on.
public enum LegacyTensorNames {
    /// The current name of `name`: itself unless it is an old one.
    public static func current(_ name: String) -> String {
        var parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let last = parts.last else { return name }
        if let renamed = batchNorm[last] {
            parts[parts.count - 1] = renamed
            return parts.joined(separator: ".")
        }
        if parts.count >= 3, parts[parts.count - 3] == "layers", let layer = Int(parts[parts.count - 2]),
            let stem = recurrent[last]
        {
            return (parts.dropLast(3) + ["\(stem)_l\(layer)"]).joined(separator: ".")
        }
        return name
    }

    /// `tensors` under their current names, in the same order, with the batch-norm counters an
    /// old file lacks (0, after each `running_var` whose `num_batches_tracked` is missing).
    /// - Returns: the tensors, and how many names were old (0: the file is current).
    public static func upgraded(_ tensors: [(String, NDArray)]) -> (tensors: [(String, NDArray)], oldNames: Int) {
        let present = Set(tensors.map(\.0))
        var out: [(String, NDArray)] = [], oldNames = 0
        for (name, array) in tensors {
            let now = current(name)
            // A file holding both spellings keeps the current one.
            if now != name && present.contains(now) { continue }
            if now != name { oldNames += 1 }
            out.append((now, array))
            if now != name, now.hasSuffix("running_var") {
                let counter = String(now.dropLast("running_var".count)) + "num_batches_tracked"
                if !present.contains(counter) { out.append((counter, NDArray(shape: [], dtype: .int64))) }
            }
        }
        return (out, oldNames)
    }

    static let batchNorm = ["runningMean": "running_mean", "runningVar": "running_var"]
    static let recurrent = ["weightIH": "weight_ih", "weightHH": "weight_hh", "biasIH": "bias_ih", "biasHH": "bias_hh"]
}
