/// Sets an optimizer's learning rate (and one-cycle momentum) before every step.
///
/// The step count advances after every optimizer step, including skipped ones (a non-finite
/// gradient, an fp16 overflow): PyTorch's behaviour, chosen so the schedule depends only on
/// how many batches were seen.
public final class LearningRateScheduler {
    public let schedule: LearningRateSchedule
    /// The peak rate, after the linear scaling rule if any.
    public let baseLR: Double
    public let warmupSteps: Int
    public var plateau: ReduceLROnPlateau?
    /// Optimizer steps taken so far.
    public var stepCount = 0

    /// - Parameters:
    ///   - schedule: the shape of the rate over steps.
    ///   - baseLR: the configured peak rate.
    ///   - warmupSteps: linear warm-up steps before the schedule.
    ///   - plateau: an optional reduce-on-plateau that multiplies the schedule.
    public init(
        _ schedule: LearningRateSchedule, baseLR: Double, warmupSteps: Int = 0, plateau: ReduceLROnPlateau? = nil
    ) {
        precondition(warmupSteps >= 0, "warmup steps must be non-negative")
        (self.schedule, self.baseLR, self.warmupSteps, self.plateau) = (schedule, baseLR, warmupSteps, plateau)
    }

    /// The linear scaling rule (Goyal et al.): lr × global batch / reference batch.
    public static func scaled(_ lr: Double, globalBatch: Int, referenceBatch: Int) -> Double {
        precondition(referenceBatch > 0, "reference batch must be positive")
        return lr * Double(globalBatch) / Double(referenceBatch)
    }

    /// The rate of the next step.
    public var currentLR: Double {
        schedule.value(step: stepCount, base: baseLR, warmupSteps: warmupSteps).lr * (plateau?.scale ?? 1)
    }

    /// Writes the rate (and cycled momentum) of the next step into `optimizer`.
    public func apply(to optimizer: Optimizer) {
        let v = schedule.value(step: stepCount, base: baseLR, warmupSteps: warmupSteps)
        optimizer.learningRate = Float(v.lr * (plateau?.scale ?? 1))
        if let m = v.momentum { optimizer.cycledMomentum = Float(m) }
    }

    /// Counts one optimizer step.
    public func advance() { stepCount += 1 }

    /// Feeds a validation metric to reduce-on-plateau; returns true when it lowered the rate.
    @discardableResult
    public func observe(validationMetric: Double) -> Bool {
        plateau?.observe(
            validationMetric, baseLR: schedule.value(step: stepCount, base: baseLR, warmupSteps: warmupSteps).lr)
            ?? false
    }
}
