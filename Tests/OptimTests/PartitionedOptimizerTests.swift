import Autograd
import Optim
import Testing

@Suite("Partitioned optimizer")
struct PartitionedOptimizerTests {
    @Test func eachPartUpdatesOnlyItsParametersAndKeepsItsOwnState() throws {
        let g = Tensor(NDArray([1, 2, 3], shape: [3]), requiresGrad: true),
            d = Tensor(NDArray([4, 5], shape: [2]), requiresGrad: true)
        let arena = ParameterArena([("generator.w", g), ("discriminator.w", d)])
        func adam(_ prefix: String) -> Adam {
            Adam(
                arena, learningRate: 0.1,
                groups: ParameterGroups(arena, weightDecay: 0, including: { $0.hasPrefix(prefix) }))
        }
        let parts = PartitionedOptimizer([("generator", adam("generator.")), ("discriminator", adam("discriminator."))])
        arena.grads.ptr.update(repeating: 1, count: arena.capacity)
        parts.step(part: "discriminator")
        #expect(g.data.scalars == [1, 2, 3])
        #expect(d.data.scalars.map { ($0 * 1000).rounded() / 1000 } == [3.9, 4.9])  // Adam's first step moves by lr
        parts.step(part: "generator")
        #expect(g.data.scalars.map { ($0 * 1000).rounded() / 1000 } == [0.9, 1.9, 2.9])
        parts.learningRate = 0.5
        #expect(parts.parts.allSatisfy { $0.optimizer.learningRate == 0.5 })
        #expect(
            parts.state.keys.sorted() == [
                "discriminator/exp_avg", "discriminator/exp_avg_sq", "discriminator/step",
                "generator/exp_avg", "generator/exp_avg_sq", "generator/step",
            ])
        let saved = parts.state.mapValues { $0.copy() }
        parts.step()
        try parts.load(state: saved)
        #expect(parts.state["generator/step"]!.scalars == [1] && parts.state["discriminator/step"]!.scalars == [1])
        #expect(throws: OptimizerStateError.self) { try parts.load(state: ["critic/step": NDArray([1], shape: [1])]) }
        #expect(parts.groups.runs.count == 2)
    }
}
