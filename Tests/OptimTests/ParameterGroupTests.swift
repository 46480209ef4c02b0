import Autograd
import Optim
import Testing

/// Named parameter groups (`optimizer.groups`): each group's update uses its own learning rate
/// and weight decay, and a schedule scales every group alike.
@Suite("Parameter groups with their own learning rate")
struct ParameterGroupTests {
    /// Three parameters: `body.w` [2, 2], `head.w` [1, 2] and `head.b` [2] (a bias: no decay).
    static func model() -> ParameterArena {
        ParameterArena([
            ("body.w", Tensor([1, -2, 0.5, 3], shape: [2, 2], requiresGrad: true)),
            ("head.w", Tensor([2, -1], shape: [1, 2], requiresGrad: true)),
            ("head.b", Tensor([0.5, -0.5], shape: [2], requiresGrad: true)),
        ])
    }

    static let grads: [String: [Float]] = ["body.w": [0.5, -1, 2, 0.25], "head.w": [1, -0.5], "head.b": [0.25, 2]]

    static func setGrads(_ a: ParameterArena) {
        for e in a.entries { for (i, g) in grads[e.name]!.enumerated() { a.grads.ptr[e.offset + i] = g } }
    }

    static func values(_ a: ParameterArena, _ name: String) -> [Float] {
        let e = a.entries.first { $0.name == name }!
        return Array(UnsafeBufferPointer(start: a.values.ptr + e.offset, count: e.count))
    }

    /// SGD with lr 0.5 and weight decay 0.1; the body at a quarter of the rate (0.125), the head
    /// with its own decay 0.3: p -= lr_g·(g + wd_g·p), worked by hand.
    @Test func eachGroupUsesItsLearningRateAndDecay() {
        let a = Self.model()
        let groups = ParameterGroups(
            a, weightDecay: 0.1,
            assignments: [.init(prefix: "body.", lrScale: 0.25), .init(prefix: "head.", weightDecay: 0.3)])
        #expect(groups.runs.map(\.lrScale) == [0.25, 1, 1] && groups.runs.map(\.weightDecay) == [0.1, 0.3, 0])
        Self.setGrads(a)
        SGD(a, learningRate: 0.5, groups: groups).step()
        // body.w: 1 - 0.125·(0.5 + 0.1) = 0.925; -2 - 0.125·(-1 - 0.2) = -1.85;
        // 0.5 - 0.125·(2 + 0.05) = 0.24375; 3 - 0.125·(0.25 + 0.3) = 2.93125.
        #expect(Self.values(a, "body.w") == [0.925, -1.85, 0.24375, 2.93125])
        // head.w: 2 - 0.5·(1 + 0.6) = 1.2; -1 - 0.5·(-0.5 - 0.3) = -0.6.
        let head = Self.values(a, "head.w")
        #expect(abs(head[0] - 1.2) < 1e-6 && abs(head[1] + 0.6) < 1e-6, "\(head)")
        // head.b has no decay: 0.5 - 0.5·0.25 = 0.375; -0.5 - 0.5·2 = -1.5.
        #expect(Self.values(a, "head.b") == [0.375, -1.5])
    }

    /// The schedule writes the optimizer's rate; each group keeps its ratio to it (PyTorch's
    /// schedulers multiply every group's initial lr by the same factor).
    @Test func theScheduleScalesEveryGroupAlike() {
        let a = Self.model()
        let groups = ParameterGroups(a, weightDecay: 0, assignments: [.init(prefix: "head.", lrScale: 0.25)])
        let sgd = SGD(a, learningRate: 0.5, groups: groups)
        let scheduler = LearningRateScheduler(.step(stepSize: 1, gamma: 0.5), baseLR: 0.5)
        scheduler.advance()  // the second step: lr 0.25, the head's 0.0625
        scheduler.apply(to: sgd)
        Self.setGrads(a)
        sgd.step()
        // body.w: p - 0.25·g; head.w: p - 0.0625·g; head.b: p - 0.0625·g.
        #expect(Self.values(a, "body.w") == [0.875, -1.75, 0, 2.9375])
        #expect(Self.values(a, "head.w") == [1.9375, -0.96875])
        #expect(Self.values(a, "head.b") == [0.484375, -0.625])
    }

    /// Adam's step size is the group's rate over the bias correction: a group at half the rate
    /// moves half as far on its first step (where |Δp| = lr for every coordinate).
    @Test func adamStepsByTheGroupRate() {
        let a = Self.model()
        let before = Self.values(a, "body.w")
        let groups = ParameterGroups(a, weightDecay: 0, assignments: [.init(prefix: "body.", lrScale: 0.5)])
        Self.setGrads(a)
        Adam(a, learningRate: 0.01, groups: groups).step()
        for (x, y) in zip(before, Self.values(a, "body.w")) { #expect(abs(abs(x - y) - 0.005) < 1e-6) }
        for (x, y) in zip([Float(2), -1], Self.values(a, "head.w")) { #expect(abs(abs(x - y) - 0.01) < 1e-6) }
    }
}
