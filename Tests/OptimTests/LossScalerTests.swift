import Optim
import Testing

/// The scaler against GradScaler's rules (and DeepSpeed's hysteresis), step by step.
@Suite("Dynamic loss scaling")
struct LossScalerTests {
    /// Runs `overflows` through a scaler and returns (scale after each step, step taken).
    static func script(_ s: inout LossScaler, _ overflows: [Bool]) -> [(Double, Bool)] {
        overflows.map { o in
            let taken = s.update(overflow: o); return (s.scale, taken)
        }
    }

    @Test func gradScalerRules() {
        // Interval 3: three clean steps double the scale; an overflow halves it and resets the count.
        var s = LossScaler(initialScale: 1024, growthInterval: 3)
        let got = Self.script(&s, [false, false, false, true, false, false, true, true, false, false, false])
        let scales = got.map(\.0), taken = got.map(\.1)
        #expect(scales == [1024, 1024, 2048, 1024, 1024, 1024, 512, 256, 256, 256, 512])
        #expect(taken == [true, true, true, false, true, true, false, false, true, true, true])
        #expect(s.overflows == 3 && s.growthTracker == 0)
        // Defaults are GradScaler's.
        let d = LossScaler()
        #expect(
            d.scale == 65536 && d.growthFactor == 2 && d.backoffFactor == 0.5 && d.growthInterval == 2000
                && d.hysteresis == 1)
    }

    /// DeepSpeed's hysteresis 2: the first overflow only skips; the second backs off; growth restores it.
    @Test func hysteresisAndMinimum() {
        var s = LossScaler(initialScale: 8, growthInterval: 2, hysteresis: 2, minScale: 2)
        let got = Self.script(&s, [true, true, true, false, false, true, true, true, true])
        #expect(got.map(\.0) == [8, 4, 2, 2, 4, 4, 2, 2, 2])
        #expect(got.map(\.1) == [false, false, false, true, true, false, false, false, false])
        // At the minimum, further overflows are counted as divergence.
        #expect(s.scale == s.minScale && s.overflowsAtMinimum == 2)
        s.update(overflow: false)
        #expect(s.overflowsAtMinimum == 0)
    }

    @Test func staticScaleNeverMoves() {
        var s = LossScaler(initialScale: 128, dynamic: false, growthInterval: 1)
        let got = Self.script(&s, [false, true, false, false])
        #expect(got.map(\.0) == [128, 128, 128, 128] && got.map(\.1) == [true, false, true, true])
    }

    /// Growth that would overflow Double keeps the scale, as GradScaler does for a non-finite result.
    @Test func growthStaysFinite() {
        var s = LossScaler(initialScale: .greatestFiniteMagnitude, growthInterval: 1)
        s.update(overflow: false)
        #expect(s.scale == .greatestFiniteMagnitude)
    }
}
