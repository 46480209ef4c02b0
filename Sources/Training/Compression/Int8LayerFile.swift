import Autograd
import Checkpoint
import Models
import NN

/// The general int8 file: every quantized site's int8 weights, and every other parameter and
/// buffer as fp32, so the file alone holds the model. Per site NAME: `NAME.weight` int8 in
/// the fp32 layout, `NAME.weight_scale` and `NAME.bias` fp32 (out), `NAME.input_scale` fp32
/// (1) and `NAME.input_zero_point` int32 (1), as in the fused MLP and LeNet-5 file.
public enum Int8LayerFile {
    /// The `format` metadata of this form.
    public static let format = "tandem-int8-layers"

    /// The tensors of a model whose sites are quantized.
    /// - Parameters:
    ///   - model: the model after `Int8Calibration.quantize`.
    ///   - layers: its quantized sites.
    /// - Returns: the tensors, and the sites' names for the metadata.
    public static func tensors(of model: any Module, layers: [Int8Calibration.Layer]) -> [(String, NDArray)] {
        var out: [(String, NDArray)] = []
        var replaced = Set<ObjectIdentifier>()
        for layer in layers {
            guard let w = layer.site.weights else { continue }
            replaced.insert(ObjectIdentifier(layer.site.weight))
            if let bias = layer.site.bias { replaced.insert(ObjectIdentifier(bias)) }
            let n = w.outputs, name = layer.site.name
            out += [
                (name + ".weight", w.values), (name + ".weight_scale", NDArray(w.weightScales, shape: [n])),
                (name + ".bias", NDArray(w.bias, shape: [n])),
                (name + ".input_scale", NDArray([w.inputScale], shape: [1])),
                (name + ".input_zero_point", NDArray(indices: [w.inputZeroPoint], shape: [1])),
            ]
        }
        for (name, tensor) in model.namedParameters() where !replaced.contains(ObjectIdentifier(tensor)) {
            out.append((name, tensor.data))
        }
        return out + model.namedBuffers().map { ($0.0, $0.1.value) }
    }

    /// Installs a file's int8 sites and fp32 tensors into a model built from the run's config.
    /// - Parameters:
    ///   - tensors: the file's tensors.
    ///   - siteNames: the quantized sites, from the file's `layers` metadata.
    ///   - model: the fresh model.
    ///   - path: the file, for messages.
    public static func install(
        _ tensors: [String: NDArray], siteNames: [String], into model: any Module, path: String
    ) throws {
        let fix = "quantize the run again with `tandem quantize`"
        func tensor(_ name: String, _ dtype: DType, _ shape: [Int]) throws -> NDArray {
            guard let t = tensors[name], t.dtype == dtype, t.shape.dims == shape else {
                let found = tensors[name].map { "\($0.dtype) \($0.shape.dims)" } ?? "none"
                throw CheckpointError(
                    "\(path) has no \(dtype) tensor \(name) of shape \(shape) (found \(found)); it was made for a "
                        + "different model, or is damaged: \(fix)")
            }
            return t
        }
        let sites = Dictionary(Int8Site.all(in: model).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var replaced = Set<ObjectIdentifier>()
        for name in siteNames {
            guard let site = sites[name] else {
                throw CheckpointError(
                    "\(path) quantizes \(name), which is not a linear, convolution or recurrent layer of this run's "
                        + "model; \(fix)")
            }
            let shape = site.weight.shape.dims, n = shape[0]
            let zeroPoint = try tensor(name + ".input_zero_point", .int32, [1]).int32Pointer[0]
            let scale = try tensor(name + ".input_scale", .float32, [1]).ptr[0]
            guard zeroPoint >= 0 && zeroPoint <= Quantize.activationMax && scale > 0 && scale.isFinite else {
                throw CheckpointError(
                    "\(path): \(name) has input scale \(scale) and zero point \(zeroPoint), but int8 needs a positive "
                        + "scale and a zero point in 0...\(Quantize.activationMax); \(fix)")
            }
            let weights = Int8Weights(
                values: try tensor(name + ".weight", .int8, shape),
                weightScales: try tensor(name + ".weight_scale", .float32, [n]).scalars,
                bias: try tensor(name + ".bias", .float32, [n]).scalars, inputScale: scale, inputZeroPoint: zeroPoint,
                groups: site.groups)
            // Whatever else reads these tensors (a tied embedding) sees the int8 values.
            site.weight.data.assign(weights.dequantizedWeight().converted(to: site.weight.data.dtype))
            site.bias?.data.assign(NDArray(weights.bias, shape: [n]).converted(to: site.bias!.data.dtype))
            site.mode = .quantized(weights)
            replaced.insert(ObjectIdentifier(site.weight))
            if let bias = site.bias { replaced.insert(ObjectIdentifier(bias)) }
        }
        let targets =
            model.namedParameters().filter { !replaced.contains(ObjectIdentifier($0.1)) }.map { ($0.0, $0.1.data) }
            + model.namedBuffers().map { ($0.0, $0.1.value) }
        for (name, array) in targets { array.assign(try tensor(name, array.dtype, array.shape.dims)) }
    }
}
