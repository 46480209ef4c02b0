/// Lowers the learning rate when a validation metric stops improving, as
/// torch.optim.lr_scheduler.ReduceLROnPlateau with its relative threshold.
public struct ReduceLROnPlateau: Sendable, Equatable, Codable {
    public enum Mode: String, Sendable, Codable { case min, max }

    public let mode: Mode
    public let factor: Double, patience: Int, threshold: Double, cooldown: Int, minLR: Double
    /// The multiplier on the scheduled learning rate so far (1, then factor, factor², ...).
    public private(set) var scale = 1.0
    public private(set) var best: Double?
    public private(set) var badEpochs = 0
    public private(set) var cooldownLeft = 0

    /// - Parameters: PyTorch's defaults: mode min, factor 0.1, patience 10, threshold 1e-4
    ///   (relative), cooldown 0, min_lr 0.
    public init(
        mode: Mode = .min, factor: Double = 0.1, patience: Int = 10, threshold: Double = 1e-4,
        cooldown: Int = 0, minLR: Double = 0
    ) {
        precondition(factor > 0 && factor < 1, "plateau factor must lie in (0, 1), got \(factor)")
        precondition(
            patience >= 0 && cooldown >= 0 && threshold >= 0, "patience, cooldown and threshold must be non-negative")
        (self.mode, self.factor, self.patience, self.threshold, self.cooldown, self.minLR) =
            (mode, factor, patience, threshold, cooldown, minLR)
    }

    func isBetter(_ value: Double, than best: Double) -> Bool {
        mode == .min ? value < best * (1 - threshold) : value > best * (1 + threshold)
    }

    /// Records one evaluation of the metric; returns true when it lowered the rate.
    /// - Parameters:
    ///   - metric: the validation metric (identical on every rank, so all ranks agree).
    ///   - baseLR: the scheduled rate the scale multiplies, for the `minLR` floor.
    @discardableResult
    public mutating func observe(_ metric: Double, baseLR: Double) -> Bool {
        if let b = best, !isBetter(metric, than: b) {
            badEpochs += 1
        } else {
            best = metric
            badEpochs = 0
        }
        if cooldownLeft > 0 {
            cooldownLeft -= 1
            badEpochs = 0
        }
        guard badEpochs > patience else { return false }
        let old = baseLR * scale
        let new = max(old * factor, minLR)
        badEpochs = 0
        cooldownLeft = cooldown
        guard old - new > 1e-8, baseLR > 0 else { return false }
        scale = new / baseLR
        return true
    }
}
