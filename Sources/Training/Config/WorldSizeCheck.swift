/// What a config requires of the world size, checked once the number of ranks is known.
public enum WorldSizeCheck {
    /// Why `config` cannot run on `worldSize` ranks, or nil when it can: deterministic mode
    /// splits each step into `distributed.micro_shards`, which must divide over the ranks.
    public static func problem(_ config: TrainConfig, worldSize: Int) -> String? {
        guard config.deterministic, let shards = config.distributed.microShards, shards % worldSize != 0 else {
            return nil
        }
        let sizes = (1...shards).filter { shards % $0 == 0 }.map(String.init).joined(separator: ", ")
        return "deterministic: true splits each step into distributed.micro_shards \(shards) shards, which do not "
            + "divide over \(worldSize) ranks; run on \(sizes) ranks, or change micro_shards "
            + "(which changes the results)"
    }
}
