@testable import Collective
import Testing

/// The stall logic on its own: which ranks are missing, who reports, and the message.
@Suite struct StallViewTests {
    typealias State = StallView.RankState
    static let hosts = ["node-a", "node-b", "node-c"]

    /// A view held by `rank` at time 100, every rank heard at time 100 - `heardAgo[r]` in `states[r]`,
    /// which it entered `inState[r]` seconds before that.
    func view(_ rank: Int, _ states: [State], inState: [Double], heardAgo: [Double] = [0, 0, 0]) -> StallView {
        var v = StallView(rank: rank, hosts: Self.hosts, now: 0)
        for r in states.indices { v.record(r, states[r], inStateFor: inState[r], now: 100 - heardAgo[r]) }
        return v
    }

    func look(_ v: StallView) -> Stall? { v.stall(now: 100, after: 5, silentAfter: 10, staleAfter: 2) }

    @Test func aLateRankIsMissingAndTheLowestOtherReports() throws {
        let states = [
            State(entered: 2, waiting: true, label: "allreduce of 1 doubles"),
            State(entered: 2, waiting: true, label: "allreduce of 1 doubles"),
            State(entered: 1, waiting: false, label: "barrier"),
        ]
        for viewer in 0..<3 {
            let stall = try #require(look(view(viewer, states, inState: [6, 7, 8])))
            #expect(stall.collective == 2 && stall.waiting == [0, 1] && stall.missing.map(\.rank) == [2])
            #expect(stall.seconds == 7 && stall.reporter == 0)
            #expect(
                stall.description.hasPrefix(
                    "stalled collective: ranks 0, 1 have waited 7 s in collective #2 "
                        + "(allreduce of 1 doubles); rank 2 has not arrived: rank 2 finished collective #1 (barrier) 8 s ago."
                ))
            #expect(!stall.description.contains("not been heard"))
        }
    }

    @Test func noStallBeforeTheWarningTimeOrWhenEveryoneArrived() {
        let waiting = State(entered: 3, waiting: true, label: "barrier")
        #expect(look(view(1, [waiting, waiting, State(entered: 2)], inState: [4, 4, 4])) == nil)
        #expect(look(view(1, [waiting, waiting, waiting], inState: [60, 60, 60])) == nil)
    }

    /// Rank 0 stopped inside the same collective: only its silence gives it away, and rank 1 reports.
    @Test func aSilentRankIsMissingEvenInTheSameCollective() throws {
        let waiting = State(entered: 5, waiting: true, label: "allreduce of 4 floats")
        let states = [waiting, waiting, waiting]
        let stall = try #require(look(view(1, states, inState: [20, 20, 20], heardAgo: [12, 0, 0])))
        #expect(stall.missing.map(\.rank) == [0] && stall.waiting == [1, 2] && stall.reporter == 1)
        #expect(
            stall.description.contains(
                "rank 0 has not arrived: rank 0 (host node-a) has not been heard from "
                    + "for 12 s "
                    + "(it then waited in collective #5 (allreduce of 4 floats))"), "\(stall.description)")
        #expect(stall.description.contains("stopped (SIGSTOP, a debugger, swapping) or its host is unreachable"))
        #expect(!stall.cutOff)
    }

    /// A rank that hears from nobody names them all, says its own host is likely cut off, and reports itself.
    @Test func aRankHearingFromNoOneSaysItIsCutOff() throws {
        let waiting = State(entered: 9, waiting: true, label: "barrier")
        let states = [waiting, waiting, waiting]
        let stall = try #require(look(view(2, states, inState: [30, 30, 30], heardAgo: [25, 25, 0])))
        #expect(stall.missing.map(\.rank) == [0, 1] && stall.waiting == [2] && stall.reporter == 2 && stall.cutOff)
        #expect(
            stall.description.contains(
                "Rank 2 has heard from no other rank: its host node-c is likely cut off "
                    + "from the network (a failed link or a partition), unless every other rank is stopped."))
        #expect(stall.description.contains("ranks 0, 1 have not arrived"))
    }

    /// With two ranks, hearing from no one cannot tell a stopped peer from a cut-off host: both are named.
    @Test func withTwoRanksSilenceNamesBothCauses() throws {
        var v = StallView(rank: 1, hosts: ["node-a", "node-b"], now: 0)
        let waiting = State(entered: 7, waiting: true, label: "barrier")
        v.record(0, waiting, inStateFor: 0, now: 80)
        v.record(1, waiting, inStateFor: 20, now: 100)
        let stall = try #require(v.stall(now: 100, after: 5, silentAfter: 10, staleAfter: 2))
        #expect(stall.cutOff && stall.reporter == 1 && stall.missing.map(\.rank) == [0])
        #expect(
            stall.description.contains(
                "Rank 1 has heard from no other rank: rank 0 is stopped (SIGSTOP, "
                    + "a debugger, swapping) or unreachable, or this host (node-b) is cut off from the network"),
            "\(stall.description)")
    }

    /// A state heard a while ago is shown with its age, not as current.
    @Test func aStaleStateSaysWhenItWasHeard() throws {
        let states = [
            State(entered: 4, waiting: true, label: "barrier"),
            State(entered: 3, waiting: false, label: "barrier"),
            State(entered: 4, waiting: true, label: "barrier"),
        ]
        let stall = try #require(look(view(0, states, inState: [6, 1, 6], heardAgo: [0, 4, 0])))
        #expect(
            stall.description.contains("rank 1 finished collective #3 (barrier) 5 s ago (as heard 4 s ago)"),
            "\(stall.description)")
    }

    /// Heartbeats of an unchanged state keep the time it was entered, so the waits agree between ranks.
    @Test func repeatedHeartbeatsKeepTheStateAge() throws {
        var v = StallView(rank: 0, hosts: Self.hosts, now: 0)
        let state = State(entered: 2, waiting: true, label: "barrier")
        v.record(1, state, inStateFor: 1, now: 10)
        v.record(1, state, inStateFor: 3, now: 12)
        #expect(v.peers[1].since == 9 && v.peers[1].heard == 12)
    }
}
