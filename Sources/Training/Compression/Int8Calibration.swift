import Autograd
import Models
import NN

/// Calibrates and quantizes a model's int8 sites in place: each site watches its input on
/// calibration batches, then gets int8 weights and the input scale and zero point of the
/// range it saw.
public enum Int8Calibration {
    /// One quantized site and the input range it was calibrated on.
    public struct Layer {
        public let site: Int8Site
        public let low: Float, high: Float
    }

    /// - Parameters:
    ///   - model: a trained model (put in evaluation mode).
    ///   - batches: (inputs, targets) as the dataset gives them; the model's loss runs on each.
    ///   - method: minmax or percentile.
    ///   - percentile: for `.percentile`, in (50, 100].
    ///   - modelName: for the error when the model has no site.
    /// - Returns: the quantized sites; a site the forward pass never reached stays fp32.
    public static func quantize(
        _ model: any TrainableModel, batches: [(inputs: NDArray, targets: NDArray)],
        method: ActivationCalibration.Method, percentile: Double, modelName: String
    ) throws -> [Layer] {
        let sites = Int8Site.all(in: model)
        guard !sites.isEmpty else {
            throw ConfigError(
                "model.name \(modelName) has no linear, convolution or recurrent layer to quantize; "
                    + "int8 needs at least one"
            )
        }
        let perBatch = method == .percentile ? ActivationCalibration.sampleCap / max(batches.count, 1) : 0
        let observers = sites.map { site -> ActivationObserver in
            let observer = ActivationObserver(samplesPerBatch: perBatch)
            site.mode = .observing(observer)
            return observer
        }
        model.eval()
        withNoGrad {
            for batch in batches { _ = model.loss(inputs: batch.inputs, targets: batch.targets, labelSmoothing: 0) }
        }
        var layers: [Layer] = []
        for (site, observer) in zip(sites, observers) {
            guard observer.low <= observer.high else {
                site.mode = nil
                continue
            }
            let range = observer.range(percentile: method == .percentile ? percentile : nil)
            site.mode = .quantized(
                Int8Weights(
                    weight: site.weight.values, bias: site.bias?.values, groups: site.groups, inputRange: range))
            layers.append(Layer(site: site, low: range.low, high: range.high))
        }
        return layers
    }
}
