import Foundation
import TensorCore

/// Fashion-MNIST (Xiao et al. 2017): 28x28 grey images of 10 kinds of clothing, 60k for
/// training and 10k for testing, read from the four IDX `.gz` files.
public enum FashionMNIST {
    /// Where the Debian package `dataset-fashion-mnist` installs the files.
    public static let defaultDirectory = "/usr/share/datasets/fashion-mnist"
    /// Mean and standard deviation of the training pixels scaled to [0, 1].
    public static let mean: Float = 0.2860, std: Float = 0.3530
    public static let classNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]

    public enum Split: String, Sendable { case train, test }

    /// The file names of a split: images, labels.
    public static func files(_ split: Split) -> (images: String, labels: String) {
        let stem = split == .train ? "train" : "t10k"
        return ("\(stem)-images-idx3-ubyte.gz", "\(stem)-labels-idx1-ubyte.gz")
    }

    /// Loads one split as (N, 1, 28, 28) float32 images and int32 labels.
    /// - Parameters:
    ///   - directory: the folder holding the `.gz` files.
    ///   - split: train (60k) or test (10k).
    ///   - normalize: (x/255 - mean)/std when true, x/255 otherwise.
    ///   - limit: keep only the first `limit` samples (small runs and tests).
    public static func load(
        directory: String = defaultDirectory, split: Split, normalize: Bool = true,
        limit: Int? = nil
    ) throws -> TensorDataset {
        let (imageName, labelName) = files(split)
        let imagePath = directory + "/" + imageName, labelPath = directory + "/" + labelName
        for path in [imagePath, labelPath] where !FileManager.default.fileExists(atPath: path) {
            throw DatasetError(
                "Fashion-MNIST file \(path) is missing. Install it with `apt-get install dataset-fashion-mnist` "
                    + "(launch/setup.sh does), or set data.directory to the folder holding the four .gz files")
        }
        let images = try IDXFile(Gzip.read(imagePath), name: imagePath, expectedRank: 3)
        let labels = try IDXFile(Gzip.read(labelPath), name: labelPath, expectedRank: 1)
        guard images.dimensions.count == 3, images.dimensions[1] == 28, images.dimensions[2] == 28 else {
            throw DatasetError(
                "\(imagePath) holds images of \(images.dimensions.dropFirst().map(String.init).joined(separator: "x")), not 28x28"
            )
        }
        guard images.dimensions[0] == labels.dimensions[0] else {
            throw DatasetError(
                "\(imagePath) holds \(images.dimensions[0]) images but \(labelPath) holds \(labels.dimensions[0]) labels; "
                    + "the files come from different splits or one is damaged")
        }
        if let bad = labels.bytes.firstIndex(where: { $0 >= 10 }) {
            throw DatasetError(
                "\(labelPath) has label \(labels.bytes[bad]) at sample \(bad); Fashion-MNIST labels are 0-9")
        }
        let n = min(images.dimensions[0], limit ?? .max)
        let x = NDArray(shape: [n, 1, 28, 28], zeroed: false)
        let scale: Float = normalize ? 1 / (255 * std) : 1 / 255, shift: Float = normalize ? -mean / std : 0
        images.bytes.withUnsafeBufferPointer { src in
            for i in 0..<(n * 784) { x.ptr[i] = Float(src[i]) * scale + shift }
        }
        let y = NDArray(indices: labels.bytes.prefix(n).map { Int32($0) }, shape: [n])
        return TensorDataset(inputs: x, labels: y, classCount: 10)
    }
}
