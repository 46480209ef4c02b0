import Autograd

/// What a linear layer, convolution or recurrent input projection does instead of its fp32
/// product: watch its inputs for calibration, or run int8. A layer without one runs fp32.
public enum Int8Mode {
    /// Runs fp32 and records the input's range.
    case observing(ActivationObserver)
    /// Runs int8 with these weights.
    case quantized(Int8Weights)

    /// The int8 weights, once quantized.
    public var weights: Int8Weights? {
        if case let .quantized(w) = self { return w }
        return nil
    }

    /// x·Wᵀ + b in this mode.
    /// - Parameters:
    ///   - x: (..., in).
    ///   - weight: the fp32 weight (out, in), used while observing.
    ///   - bias: the fp32 bias, used while observing.
    public func applyLinear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        switch self {
        case let .observing(observer):
            observer.observe(x.values)
            return linear(x, weight: weight, bias: bias)
        case let .quantized(w):
            return Tensor(w.linear(x.values))
        }
    }

    /// A convolution layer's forward pass in this mode.
    /// - Parameters:
    ///   - x: (N, C, H, W).
    ///   - layer: the convolution (its fp32 weights are used while observing).
    public func applyConv(_ x: Tensor, _ layer: Conv2d) -> Tensor {
        switch self {
        case let .observing(observer):
            observer.observe(x.values)
            return conv2d(
                x, weight: layer.weight, bias: layer.bias, stride: layer.stride, padding: layer.padding,
                dilation: layer.dilation, groups: layer.groups)
        case let .quantized(w):
            let geometry = Conv2DGeometry(
                kernel: (layer.weight.shape[2], layer.weight.shape[3]), stride: layer.stride, padding: layer.padding,
                dilation: layer.dilation)
            return Tensor(w.conv2d(x.values, geometry: geometry))
        }
    }
}
