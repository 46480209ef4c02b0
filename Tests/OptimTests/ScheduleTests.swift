import Optim
import Testing

/// Every schedule against values worked out by hand from its formula (REFERENCE.md).
@Suite("Learning-rate schedules")
struct ScheduleTests {
    static func lrs(_ s: LearningRateSchedule, steps: Int, base: Double = 1, warmup: Int = 0) -> [Double] {
        (0..<steps).map { s.value(step: $0, base: base, warmupSteps: warmup).lr }
    }

    static func expectClose(_ got: [Double], _ want: [Double]) {
        #expect(got.count == want.count)
        for (g, w) in zip(got, want) { #expect(Swift.abs(g - w) < 1e-9, "got \(got), want \(want)") }
    }

    @Test func stepMultistepExponentialConstant() {
        Self.expectClose(Self.lrs(.constant, steps: 3, base: 0.3), [0.3, 0.3, 0.3])
        Self.expectClose(Self.lrs(.step(stepSize: 2, gamma: 0.1), steps: 5), [1, 1, 0.1, 0.1, 0.01])
        Self.expectClose(Self.lrs(.multiStep(milestones: [1, 3], gamma: 0.5), steps: 5), [1, 0.5, 0.5, 0.25, 0.25])
        Self.expectClose(Self.lrs(.exponential(gamma: 0.9), steps: 4, base: 2), [2, 1.8, 1.62, 1.458])
    }

    @Test func cosineAndLinearDecay() {
        // min + (base - min)(1 + cos(πt/T))/2 with T = 4, min 0.1, then flat at min.
        Self.expectClose(
            Self.lrs(.cosine(totalSteps: 4, minLR: 0.1), steps: 6),
            [1, 0.1 + 0.9 * 0.8535533905932737, 0.55, 0.1 + 0.9 * 0.14644660940672624, 0.1, 0.1])
        Self.expectClose(Self.lrs(.linear(totalSteps: 4, endFactor: 0.2), steps: 6), [1, 0.8, 0.6, 0.4, 0.2, 0.2])
    }

    /// nanoGPT/llm.c: lr·(step+1)/warmup, then cosine from base to min over the remaining steps.
    @Test func warmupThenCosine() {
        Self.expectClose(
            Self.lrs(.cosine(totalSteps: 6, minLR: 0), steps: 7, warmup: 2),
            [0.5, 1, 1, 0.8535533905932737, 0.5, 0.14644660940672624, 0])
        // Warm-up multiplies any schedule.
        Self.expectClose(Self.lrs(.step(stepSize: 1, gamma: 0.5), steps: 5, warmup: 2), [0.5, 1, 1, 0.5, 0.25])
    }

    /// OneCycleLR, total 10, pct_start 0.3: peak at step 2, cosine both ways, momentum mirrored.
    @Test func oneCycleWithMomentum() {
        let s = LearningRateSchedule.oneCycle(
            totalSteps: 10, pctStart: 0.3, divFactor: 25, finalDivFactor: 1e4,
            baseMomentum: 0.85, maxMomentum: 0.95)
        let v = (0..<10).map { s.value(step: $0, base: 1) }
        Self.expectClose(v.map(\.lr).prefix(3).map { $0 }, [0.04, 0.52, 1])
        // Phase two over 7 steps: pct = (step - 2)/7.
        let pct = 3.0 / 7, final = 0.04 / 1e4
        #expect(Swift.abs(v[5].lr - (final + (1 - final) / 2 * (1 + cos(Double.pi * pct)))) < 1e-12)
        #expect(Swift.abs(v[9].lr - final) < 1e-12)
        Self.expectClose(v.map { $0.momentum! }.prefix(3).map { $0 }, [0.95, 0.9, 0.85])
        #expect(Swift.abs(v[9].momentum! - 0.95) < 1e-12)
    }

    /// ReduceLROnPlateau: patience 1, factor 0.5, relative threshold, cooldown 1, floor 0.2.
    @Test func reduceOnPlateau() {
        var p = ReduceLROnPlateau(mode: .min, factor: 0.5, patience: 1, threshold: 0.01, cooldown: 1, minLR: 0.2)
        // 1.0 best; 0.995 is not 1% better (bad 1); 0.999 bad 2 > patience: halve.
        #expect(!p.observe(1.0, baseLR: 1) && !p.observe(0.995, baseLR: 1))
        #expect(p.observe(0.999, baseLR: 1) && p.scale == 0.5)
        // Cooldown swallows the next bad epoch; then two more bad ones halve again, to the floor.
        #expect(!p.observe(1.0, baseLR: 1) && !p.observe(1.0, baseLR: 1))
        #expect(p.observe(1.0, baseLR: 1) && Swift.abs(p.scale - 0.25) < 1e-12)
        for _ in 0..<6 { p.observe(1.0, baseLR: 1) }
        #expect(Swift.abs(p.scale - 0.2) < 1e-12)
        // A scheduler multiplies its schedule by the plateau scale and writes it into the optimizer.
        let sched = LearningRateScheduler(.constant, baseLR: 0.1, plateau: ReduceLROnPlateau(factor: 0.5, patience: 0))
        sched.observe(validationMetric: 1)
        sched.observe(validationMetric: 2)
        #expect(Swift.abs(sched.currentLR - 0.05) < 1e-12)
    }

    @Test func scheduledOptimizer() {
        let a = arena([0], grad: [0])
        let sgd = SGD(a, learningRate: 0, momentum: 0.9)
        let sched = LearningRateScheduler(
            .oneCycle(
                totalSteps: 10, pctStart: 0.3, divFactor: 25, finalDivFactor: 1e4,
                baseMomentum: 0.85, maxMomentum: 0.95), baseLR: 0.5)
        sched.apply(to: sgd)
        #expect(Swift.abs(sgd.learningRate - 0.02) < 1e-7 && sgd.momentum == 0.95)
        sched.advance(); sched.advance()
        sched.apply(to: sgd)
        #expect(Swift.abs(sgd.learningRate - 0.5) < 1e-7 && Swift.abs(sgd.momentum - 0.85) < 1e-7)
        #expect(LearningRateScheduler.scaled(0.1, globalBatch: 512, referenceBatch: 256) == 0.2)
    }
}

import Foundation
