import TensorCore

extension Tensor {
    /// Reverse-mode differentiation from this tensor.
    ///
    /// Gradients of leaves are accumulated (added) into their `grad`, so a parameter bound
    /// to the gradient arena receives its gradient in place. The tape is released as it is
    /// consumed unless `retainGraph` is true.
    /// - Parameters:
    ///   - gradient: dL/d(self); defaults to 1 and then requires a one-element tensor.
    ///   - retainGraph: keep the recorded ops so backward can run again.
    public func backward(_ gradient: NDArray? = nil, retainGraph: Bool = false) {
        precondition(requiresGrad, "backward() on a tensor that does not require grad: no input of it requires grad")
        let seed: NDArray
        if let gradient {
            precondition(gradient.shape == shape, "backward gradient \(gradient.shape) does not match tensor \(shape)")
            seed = gradient
        } else {
            precondition(count == 1, "backward() without a gradient needs a scalar, got shape \(shape)")
            seed = NDArray(repeating: 1, shape: shape)
        }
        let order = topologicalOrder()
        // A leaf's gradient is final once every op that read it has run its VJP: count them.
        var consumers: [ObjectIdentifier: Int] = [:]
        for t in order {
            guard let node = t.creator else { continue }
            for input in node.inputs where input.requiresGrad && input.creator == nil {
                consumers[ObjectIdentifier(input), default: 0] += 1
            }
        }
        var grads: [ObjectIdentifier: NDArray] = [ObjectIdentifier(self): seed]
        for t in order.reversed() {
            guard let g = grads.removeValue(forKey: ObjectIdentifier(t)) else { continue }
            guard let node = t.creator else {
                // backward() called on a leaf itself.
                t.accumulate(g)
                t.onGradientReady?(t)
                continue
            }
            if t.retainsGrad { t.accumulate(g) }
            // Gradients between 16-bit ops are stored in 16 bits, which is where fp16 underflows
            // and why the loss is scaled. VJPs whose kernels widen in registers read them so.
            let inputGrads = GraphRelease.during(!retainGraph) { node.vjp(node.halfGradient ? g : g.float32) }
            precondition(
                inputGrads.count == node.inputs.count,
                "op \(node.op) returned \(inputGrads.count) gradients for \(node.inputs.count) inputs")
            for (input, ig) in zip(node.inputs, inputGrads) {
                guard input.requiresGrad else { continue }
                if let ig {
                    precondition(
                        ig.shape.count == input.count,
                        "op \(node.op) produced a gradient of shape \(ig.shape) for an input of shape \(input.shape)")
                }
                let key = ObjectIdentifier(input)
                if input.creator == nil {
                    // Leaves accumulate at once (into the arena for parameters), unless the VJP
                    // already added into the leaf's own buffer and returned it.
                    if let ig, !input.isGradientBuffer(ig) { input.accumulate(ig.reshaped(input.shape)) }
                    consumers[key]! -= 1
                    if consumers[key] == 0 { input.onGradientReady?(input) }
                } else if let ig, let creator = input.creator {
                    let type = creator.roundsGradient ? input.data.dtype : ig.dtype
                    let typed = ig.dtype == type || ig.dtype == .int32 ? ig : ig.converted(to: type)
                    // A VJP may return its incoming array (add does), so sums always allocate.
                    if let existing = grads[key] {
                        // Both are stored as `type`: a 16-bit sum is widened and rounded in registers.
                        let sum = Binary.forward(.add, existing, typed.reshaped(input.shape))
                        grads[key] = sum.dtype == type ? sum : sum.converted(to: type)
                    } else {
                        grads[key] = typed.reshaped(input.shape)
                    }
                }
            }
            if !retainGraph { t.creator = nil }
        }
    }

    /// The buffer a VJP may add this leaf's gradient into itself, returning it instead of a new
    /// array (backward then adds nothing): the leaf's fp32 `grad` once it exists, which it
    /// always does for a parameter in the arena. nil for results of ops.
    ///
    /// A weight gradient summed by its GEMM (beta = 1) saves an array of the weight's size
    /// and the pass that added it: 4% of the MLP's step.
    public var gradientBuffer: NDArray? {
        guard creator == nil, requiresGrad, let grad, grad.dtype == .float32 else { return nil }
        return grad
    }

    /// Whether `g` is this tensor's own gradient buffer (see `gradientBuffer`).
    func isGradientBuffer(_ g: NDArray) -> Bool {
        guard let grad, g.dtype == .float32, g.count == grad.count else { return false }
        return g.storage.raw == grad.storage.raw
    }

    /// Adds `g` into this tensor's own gradient buffer (fp32), allocating it on first use.
    func accumulate(_ g: NDArray) {
        if let existing = grad {
            Unary.addInPlace(existing, g.float32)
        } else {
            grad = g.converted(to: .float32).reshaped(shape)
        }
    }

    /// Tensors reachable from self through creators, each after all of its inputs.
    func topologicalOrder() -> [Tensor] {
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        // Iterative DFS: recurrent nets over long sequences make graphs too deep to recurse.
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (t, expanded) = stack.popLast() {
            if expanded { order.append(t); continue }
            if !visited.insert(ObjectIdentifier(t)).inserted { continue }
            stack.append((t, true))
            if let node = t.creator {
                for input in node.inputs where input.requiresGrad && !visited.contains(ObjectIdentifier(input)) {
                    stack.append((input, false))
                }
            }
        }
        return order
    }
}
