import Collective
import Datasets
import Foundation
import Models
import NN

/// The Inception Score of Salimans et al. (2016) with a classifier trained on the same data
/// instead of Inception: exp(E_x KL(p(y|x) ‖ p(y))). It is high when each generated image is
/// confidently one class (low entropy of p(y|x)) and the classes are evenly covered (high
/// entropy of p(y)): 1 at worst, the number of classes at best.
public struct ClassifierScore {
    public let classifier: any Classifier
    /// Whether the classifier was trained on normalised pixels (generated images are in [0, 1]).
    public let normalizes: Bool

    /// Loads a trained classifier from its run directory (config.yaml and model.safetensors).
    /// - Parameters:
    ///   - runDirectory: a finished classifier run on the same images.
    ///   - data: the images the generator learns (they size the classifier).
    public init(runDirectory: String, data: any Dataset) throws {
        let (classifier, config) = try TrainedClassifier.load(
            runDirectory: runDirectory, data: data, key: "model.score_classifier")
        self.classifier = classifier
        normalizes = config.data.name == .fashion_mnist && config.data.normalize == .on
    }

    /// The score of images drawn on every rank (a collective).
    /// - Parameters:
    ///   - images: this rank's generated images (N, C, H, W), pixels in [0, 1].
    ///   - communicator: the world; every rank calls this.
    public func score(_ images: NDArray, over communicator: Communicator) -> Double {
        let x =
            normalizes
            ? Tensor(images).affine(scale: 1 / FashionMNIST.std, shift: -FashionMNIST.mean / FashionMNIST.std).values
            : images
        let p = withNoGrad { classifier.logits(x).softmax().values }
        return Self.score(probabilities: p.scalars.map(Double.init), classes: p.shape[1], over: communicator)
    }

    /// exp(mean_i Σ_c p_ic log p_ic - Σ_c p̄_c log p̄_c), from sums every rank contributes to.
    /// - Parameters:
    ///   - probabilities: this rank's rows of p(y|x), row-major (N, classes).
    ///   - classes: C.
    static func score(probabilities: [Double], classes: Int, over communicator: Communicator) -> Double {
        let n = probabilities.count / classes
        var sums = [Double](repeating: 0, count: classes + 2)  // Σ_i p_i, Σ_i Σ_c p log p, N
        for i in 0..<n {
            for c in 0..<classes {
                let v = probabilities[i * classes + c]
                sums[c] += v
                if v > 0 { sums[classes] += v * Foundation.log(v) }
            }
        }
        sums[classes + 1] = Double(n)
        let total = communicator.allreduce(sums), count = total[classes + 1]
        let marginalEntropy = (0..<classes).reduce(0.0) { h, c in
            let m = total[c] / count
            return m > 0 ? h - m * Foundation.log(m) : h
        }
        return Foundation.exp(total[classes] / count + marginalEntropy)
    }
}
