import Foundation

/// A learning rate (and, for one-cycle, a momentum) as a function of the optimizer step.
///
/// The formulas are PyTorch's `lr_scheduler` classes and nanoGPT's warmup + cosine, written
/// in closed form of the step so that resuming needs only the step count.
public enum LearningRateSchedule: Sendable, Equatable {
    case constant
    /// base · gamma^⌊step / stepSize⌋ (StepLR).
    case step(stepSize: Int, gamma: Double)
    /// base · gamma^(number of milestones ≤ step) (MultiStepLR).
    case multiStep(milestones: [Int], gamma: Double)
    /// base · gamma^step (ExponentialLR).
    case exponential(gamma: Double)
    /// min + (base - min)·(1 + cos(π·t/T))/2 over T = totalSteps (CosineAnnealingLR), then min.
    case cosine(totalSteps: Int, minLR: Double)
    /// Linear from base to `endFactor`·base over totalSteps (LinearLR), then constant.
    case linear(totalSteps: Int, endFactor: Double)
    /// OneCycleLR with cosine annealing: from base/divFactor up to base over pctStart of the
    /// steps, then down to base/(divFactor·finalDivFactor); momentum goes max → base → max.
    case oneCycle(
        totalSteps: Int, pctStart: Double, divFactor: Double, finalDivFactor: Double,
        baseMomentum: Double, maxMomentum: Double)

    /// The learning rate and (one-cycle only) the momentum at `step` (0-based), after a linear
    /// warmup of `warmupSteps` steps: lr·(step+1)/warmup, as llm.c. Cosine runs over the steps
    /// after the warmup, so cosine with a warmup is nanoGPT's warmup + cosine.
    /// - Parameters:
    ///   - step: optimizer steps taken so far.
    ///   - base: the peak learning rate.
    ///   - warmupSteps: 0 for none; one-cycle has its own warm-up and ignores it.
    public func value(step: Int, base: Double, warmupSteps: Int = 0) -> (lr: Double, momentum: Double?) {
        if case .oneCycle = self {
        } else if step < warmupSteps {
            return (base * Double(step + 1) / Double(warmupSteps), nil)
        }
        let t = step - (warmupSteps > 0 ? warmupSteps : 0)
        switch self {
        case .constant:
            return (base, nil)
        case let .step(stepSize, gamma):
            return (base * pow(gamma, Double(t / stepSize)), nil)
        case let .multiStep(milestones, gamma):
            return (base * pow(gamma, Double(milestones.filter { $0 <= t }.count)), nil)
        case let .exponential(gamma):
            return (base * pow(gamma, Double(t)), nil)
        case let .cosine(totalSteps, minLR):
            let span = max(1, totalSteps - warmupSteps)
            let progress = min(1, Double(t) / Double(span))
            return (minLR + (base - minLR) * (1 + cos(Double.pi * progress)) / 2, nil)
        case let .linear(totalSteps, endFactor):
            let span = max(1, totalSteps - warmupSteps)
            let progress = min(1, Double(t) / Double(span))
            return (base * (1 + (endFactor - 1) * progress), nil)
        case let .oneCycle(totalSteps, pctStart, divFactor, finalDivFactor, baseMomentum, maxMomentum):
            let initial = base / divFactor, final = initial / finalDivFactor
            let peak = pctStart * Double(totalSteps) - 1
            let end = Double(totalSteps - 1)
            let s = Double(min(step, totalSteps - 1))
            func anneal(_ from: Double, _ to: Double, _ pct: Double) -> Double {
                to + (from - to) / 2 * (cos(Double.pi * pct) + 1)
            }
            if s <= peak {
                let pct = peak > 0 ? s / peak : 1
                return (anneal(initial, base, pct), anneal(maxMomentum, baseMomentum, pct))
            }
            let pct = (s - peak) / max(end - peak, 1e-12)
            return (anneal(base, final, pct), anneal(baseMomentum, maxMomentum, pct))
        }
    }
}
