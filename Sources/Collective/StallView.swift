/// One rank's picture of every rank's collectives, and the stall it shows; pure logic, no MPI.
///
/// Every rank keeps one. Its own state is current; the others' are what their last heartbeat
/// said, with when it was heard. A rank not heard from for `silentAfter` seconds counts as
/// missing whatever it last said: a stopped process or a host cut off from the network sends
/// nothing, and from outside the two look alike.
struct StallView {
    /// What a rank is doing: collectives entered so far; the current one is number `entered` when `waiting`.
    struct RankState: Equatable {
        var entered: Int64 = 0
        var waiting = false
        var label = ""
    }

    /// A rank as this one knows it.
    struct Peer {
        var state = RankState()
        /// When the rank entered `state` (this rank's clock).
        var since: Double
        /// When it was last heard from (its own entry: always now).
        var heard: Double
    }

    let rank: Int
    let hosts: [String]
    private(set) var peers: [Peer]

    /// - Parameters:
    ///   - rank: the rank holding this view.
    ///   - hosts: each rank's host name ("" where unknown).
    ///   - now: the start, taken as every rank's last word.
    init(rank: Int, hosts: [String], now: Double) {
        self.rank = rank
        self.hosts = hosts
        peers = [Peer](repeating: Peer(since: now, heard: now), count: hosts.count)
    }

    /// Records a heartbeat, or this rank's own state.
    /// - Parameters:
    ///   - r: whose state it is.
    ///   - state: the state.
    ///   - inStateFor: seconds the rank had been in it when it sent it (0 for this rank's own).
    ///   - now: the time it arrived.
    mutating func record(_ r: Int, _ state: RankState, inStateFor: Double, now: Double) {
        if state != peers[r].state {
            peers[r].state = state
            peers[r].since = now - max(0, inStateFor)
        }
        peers[r].heard = now
    }

    /// The collective that ranks heard from have waited in for `after` seconds, with the ranks
    /// holding it up: those that have not entered it, and those not heard from for `silentAfter`.
    /// - Parameters:
    ///   - now: the time of the look.
    ///   - after: seconds of waiting that make a stall.
    ///   - silentAfter: seconds without a heartbeat after which a rank counts as missing.
    ///   - staleAfter: seconds after which a heard state is shown with its age.
    func stall(now: Double, after: Double, silentAfter: Double, staleAfter: Double) -> Stall? {
        let silent = peers.indices.map { $0 != rank && now - peers[$0].heard >= silentAfter }
        let waits = peers.indices.filter {
            !silent[$0] && peers[$0].state.waiting && now - peers[$0].since >= after
        }
        guard let first = waits.max(by: { peers[$0].state.entered < peers[$1].state.entered }) else { return nil }
        let k = peers[first].state.entered
        let waiting = peers.indices.filter { !silent[$0] && peers[$0].state.waiting && peers[$0].state.entered == k }
        let missing = peers.indices.filter { silent[$0] || (!waiting.contains($0) && peers[$0].state.entered < k) }
        guard !missing.isEmpty else { return nil }
        let behind = missing.map { r in
            Stall.Missing(
                rank: r, host: hosts[r], state: peers[r].state, inStateFor: now - peers[r].since,
                heardAgo: now - peers[r].heard, silent: silent[r], stale: now - peers[r].heard >= staleAfter)
        }
        let others = peers.indices.filter { $0 != rank }
        return Stall(
            collective: k, label: peers[first].state.label,
            seconds: waiting.map { now - peers[$0].since }.max() ?? 0, waiting: waiting, missing: behind,
            viewer: rank, viewerHost: hosts[rank], size: peers.count,
            cutOff: !others.isEmpty && others.allSatisfy { silent[$0] })
    }
}
