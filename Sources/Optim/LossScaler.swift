/// Loss scaling for fp16 training, with PyTorch GradScaler's rules and DeepSpeed's hysteresis
/// and minimum scale as options.
///
/// The loss is multiplied by `scale` before backward so small gradients survive fp16; the
/// gradients are then multiplied by 1/scale (folded into the arena's gradient scale) and
/// checked for inf/NaN. A step with an overflow is skipped on every rank; the scale backs off
/// after `hysteresis` overflows and grows after `growthInterval` clean steps in a row.
public struct LossScaler: Sendable, Equatable, Codable {
    public private(set) var scale: Double
    /// False: a static scale that never changes (overflowing steps are still skipped).
    public let dynamic: Bool
    public let growthFactor: Double, backoffFactor: Double
    public let growthInterval: Int
    /// Overflows absorbed before the scale backs off (1: PyTorch; DeepSpeed's default is 2).
    public let hysteresis: Int
    /// The scale never backs off below this (DeepSpeed's min_loss_scale).
    public let minScale: Double
    /// Clean steps since the last overflow or growth (GradScaler's growth tracker).
    public private(set) var growthTracker = 0
    /// Overflows left before the next back-off.
    public private(set) var hysteresisLeft: Int
    /// Steps skipped for an overflow, in all.
    public private(set) var overflows = 0
    /// Overflowing steps in a row while the scale sat at its minimum (divergence).
    public private(set) var overflowsAtMinimum = 0

    /// - Parameters: GradScaler's defaults: initial scale 2^16, growth 2, backoff 0.5,
    ///   interval 2000; hysteresis 1 and minimum scale 1 unless configured.
    public init(
        initialScale: Double = 65536, dynamic: Bool = true, growthFactor: Double = 2, backoffFactor: Double = 0.5,
        growthInterval: Int = 2000, hysteresis: Int = 1, minScale: Double = 1
    ) {
        precondition(
            initialScale > 0 && initialScale.isFinite, "the loss scale must be positive and finite, got \(initialScale)"
        )
        precondition(
            growthFactor > 1 && backoffFactor > 0 && backoffFactor < 1,
            "growth factor must exceed 1 and backoff lie in (0, 1)")
        precondition(
            growthInterval >= 1 && hysteresis >= 1 && minScale > 0,
            "growth interval and hysteresis must be >= 1, min scale > 0")
        (
            self.scale, self.dynamic, self.growthFactor, self.backoffFactor, self.growthInterval, self.hysteresis,
            self.minScale
        ) =
            (initialScale, dynamic, growthFactor, backoffFactor, growthInterval, hysteresis, minScale)
        hysteresisLeft = hysteresis
    }

    /// Records the outcome of one step, in GradScaler's order (after unscale, clip and the
    /// optimizer step or its skip).
    /// - Parameter overflow: the unscaled gradients held an inf or NaN (agreed by all ranks).
    /// - Returns: whether the optimizer step should be taken (false on overflow).
    @discardableResult
    public mutating func update(overflow: Bool) -> Bool {
        if overflow {
            overflows += 1
            overflowsAtMinimum = scale <= minScale ? overflowsAtMinimum + 1 : 0
            growthTracker = 0
            guard dynamic else { return false }
            if hysteresisLeft > 1 {
                hysteresisLeft -= 1
            } else {
                scale = max(scale * backoffFactor, minScale)
            }
            return false
        }
        overflowsAtMinimum = 0
        guard dynamic else { return true }
        growthTracker += 1
        if growthTracker == growthInterval {
            let grown = scale * growthFactor
            if grown.isFinite { scale = grown }
            growthTracker = 0
            hysteresisLeft = hysteresis
        }
        return true
    }
}
