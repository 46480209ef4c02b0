import TensorCore

/// cond ? a : b elementwise; the three broadcast to a common shape. `cond` is a mask (non-zero is true).
public func `where`(_ cond: NDArray, _ a: Tensor, _ b: Tensor) -> Tensor {
    guard let ab = Shape.broadcast(a.shape, b.shape), let target = Shape.broadcast(ab, cond.shape) else {
        preconditionFailure("where: shapes \(cond.shape), \(a.shape) and \(b.shape) do not broadcast")
    }
    let c = Layout.broadcast(cond, to: target)
    let (ea, eb) = (a.broadcast(to: target), b.broadcast(to: target))
    return Tensor.record("where", Select.whereForward(c, ea.values, eb.values), inputs: [ea, eb]) { dy in
        let (da, db) = Select.whereBackward(dy, c)
        return [da, db]
    }
}

extension Tensor {
    /// Elements where `mask` is non-zero replaced by `value`; mask broadcasts to self.
    public func maskedFill(_ mask: NDArray, value: Float) -> Tensor {
        let m = Layout.broadcast(mask, to: shape)
        return Tensor.record("masked_fill", Select.maskedFillForward(values, mask: m, value: value), inputs: [self]) {
            dy in
            [Select.maskedFillBackward(dy, mask: m)]
        }
    }
}
