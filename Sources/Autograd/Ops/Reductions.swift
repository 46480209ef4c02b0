import TensorCore

extension Tensor {
    /// Sum over `axes` (all when nil).
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let inShape = shape
        return Tensor.record(
            "sum", Reduce.sum(values, axes: axes, keepDims: keepDims), inputs: [self], outputType: .float32
        ) { dy in
            [Reduce.sum_backward(dy, inputShape: inShape, axes: axes)]
        }
    }

    /// Mean over `axes` (all when nil).
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let inShape = shape, n = Float(Swift.max(Reduce.reducedCount(shape, axes), 1))
        return Tensor.record(
            "mean", Reduce.mean(values, axes: axes, keepDims: keepDims), inputs: [self], outputType: .float32
        ) { dy in
            let g = Reduce.sum_backward(dy, inputShape: inShape, axes: axes)
            return [Unary.map(g) { $0 / n }]
        }
    }

    /// Largest element over `axes`; ties share the gradient.
    public func max(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let x = values, y = Reduce.max(x, axes: axes, keepDims: keepDims)
        return Tensor.record("max", y, inputs: [self]) { dy in [Reduce.extremum_backward(dy, x: x, y: y, axes: axes)] }
    }

    /// Smallest element over `axes`; ties share the gradient.
    public func min(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let x = values, y = Reduce.min(x, axes: axes, keepDims: keepDims)
        return Tensor.record("min", y, inputs: [self]) { dy in [Reduce.extremum_backward(dy, x: x, y: y, axes: axes)] }
    }

    /// Variance over `axes` with Bessel's correction (1 = unbiased, as PyTorch's default).
    public func variance(axes: [Int]? = nil, correction: Int = 1, keepDims: Bool = false) -> Tensor {
        let x = values
        return Tensor.record(
            "variance", Reduce.variance(x, axes: axes, correction: correction, keepDims: keepDims),
            inputs: [self], outputType: .float32
        ) { dy in [Reduce.variance_backward(dy, x: x, axes: axes, correction: correction)] }
    }

    /// Index of the largest element along `axis` as int32 (not differentiable).
    public func argmax(axis: Int, keepDims: Bool = false) -> NDArray {
        Reduce.argmax(values, axis: axis, keepDims: keepDims)
    }
}
