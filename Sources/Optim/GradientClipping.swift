import Autograd

/// Gradient clipping over the flat gradient arena, as torch.nn.utils.clip_grad_norm_.
public enum GradientClipping {
    /// Scales all gradients so their global L2 norm is at most `maxNorm`.
    ///
    /// Call it on averaged gradients, so every rank computes the same norm and makes the same
    /// decision. The norm is accumulated in Double and includes the arena's `gradientScale`;
    /// the clipping itself only multiplies that scale (no pass over the gradients).
    /// - Returns: the total norm before clipping (log it); non-finite if a gradient is.
    @discardableResult
    public static func clipNorm(_ arena: ParameterArena, maxNorm: Float) -> Double {
        let g = arena.grads.ptr
        var sum = 0.0
        for e in arena.entries {
            var s = 0.0
            for i in e.offset..<(e.offset + e.count) { s += Double(g[i]) * Double(g[i]) }
            sum += s
        }
        let total = sum.squareRoot() * Double(Swift.abs(arena.gradientScale))
        let coefficient = Double(maxNorm) / (total + 1e-6)
        if coefficient < 1 { arena.gradientScale *= Float(coefficient) }
        return total
    }

    /// Clamps every gradient to [-limit, limit] (torch.nn.utils.clip_grad_value_).
    public static func clipValue(_ arena: ParameterArena, limit: Float) {
        precondition(limit >= 0, "clip value must be non-negative, got \(limit)")
        arena.applyGradientScale()
        let g = arena.grads.ptr
        for i in 0..<arena.capacity { g[i] = Swift.min(Swift.max(g[i], -limit), limit) }
    }
}
