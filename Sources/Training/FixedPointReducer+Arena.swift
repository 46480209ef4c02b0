import NN
import Collective

extension FixedPointReducer {
    /// A reducer over a parameter arena's gradients, one exponent per parameter.
    /// - Parameters:
    ///   - communicator: the world.
    ///   - arena: the parameters whose gradients are summed.
    ///   - globalShards: micro-shards per step over all ranks.
    ///   - localShards: micro-shards per step on this rank.
    public convenience init(communicator: Communicator, arena: ParameterArena, globalShards: Int, localShards: Int) {
        self.init(
            communicator: communicator, segments: arena.entries.map { $0.offset..<($0.offset + $0.count) },
            capacity: arena.capacity, globalShards: globalShards, localShards: localShards)
    }
}
