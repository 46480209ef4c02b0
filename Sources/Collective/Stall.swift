/// A collective some ranks have waited in too long, who is missing from it, and the message.
///
/// Every rank numbers collectives the same way (the count since the inspector started, which
/// all ranks do at the same point), so the numbers in one rank's message match another's.
struct Stall: CustomStringConvertible {
    /// A rank that has not arrived, as the viewing rank knows it.
    struct Missing {
        let rank: Int, host: String
        let state: StallView.RankState
        /// Seconds since it entered `state`, and since it was last heard from.
        let inStateFor: Double, heardAgo: Double
        /// Not heard from for the silence threshold; a state heard long enough ago to say its age.
        let silent: Bool, stale: Bool
    }

    let collective: Int64, label: String, seconds: Double
    let waiting: [Int], missing: [Missing]
    /// The rank whose view this is, its host, and the number of ranks.
    let viewer: Int, viewerHost: String, size: Int
    /// The viewer has heard from no other rank for the silence threshold.
    let cutOff: Bool

    /// The rank that reports and ends the job: the lowest one that is not missing. Each rank
    /// works it out from its own view, so a rank cut off from the rest reports for itself.
    var reporter: Int? {
        let out = Set(missing.map(\.rank))
        return (0..<size).first { !out.contains($0) }
    }

    var description: String {
        var text =
            "stalled collective: \(Self.ranks(waiting, "has", "have")) waited \(Self.format(seconds)) s "
            + "in collective #\(collective) (\(label)); \(Self.ranks(missing.map(\.rank), "has", "have")) not arrived: "
            + missing.map(Self.describe).joined(separator: "; ") + "."
        if cutOff && size == 2 {
            let host = viewerHost.isEmpty ? "this host" : "this host (\(viewerHost))"
            text +=
                " Rank \(viewer) has heard from no other rank: rank \(1 - viewer) is stopped (SIGSTOP, a debugger, "
                + "swapping) or unreachable, or \(host) is cut off from the network (a failed link or a partition)."
        } else if cutOff {
            let host = viewerHost.isEmpty ? "its host" : "its host \(viewerHost)"
            text +=
                " Rank \(viewer) has heard from no other rank: \(host) is likely cut off from the network "
                + "(a failed link or a partition), unless every other rank is stopped."
        } else if missing.contains(where: \.silent) {
            text +=
                " A rank not heard from is stopped (SIGSTOP, a debugger, swapping) or its host is unreachable "
                + "(a failed link or a network partition)."
        }
        return text + " A rank stuck outside MPI (data loading, a checkpoint, a deadlock) holds up the others; "
            + "ranks running different configs or data call collectives out of step"
    }

    /// One missing rank: what it last said and when, in the present when it was heard just now.
    static func describe(_ m: Missing) -> String {
        let s = m.state, ago = format(m.inStateFor)
        if m.silent {
            let did =
                s.entered == 0
                ? "had not entered any collective"
                : s.waiting
                    ? "waited in collective #\(s.entered) (\(s.label))"
                    : "had finished collective #\(s.entered) (\(s.label)) \(ago) s before"
            let host = m.host.isEmpty ? "" : " (host \(m.host))"
            return "rank \(m.rank)\(host) has not been heard from for \(format(m.heardAgo)) s (it then \(did))"
        }
        let does =
            s.entered == 0
            ? "has not entered any collective"
            : s.waiting
                ? "waits in collective #\(s.entered) (\(s.label))"
                : "finished collective #\(s.entered) (\(s.label)) \(ago) s ago"
        return "rank \(m.rank) \(does)" + (m.stale ? " (as heard \(format(m.heardAgo)) s ago)" : "")
    }

    /// "rank 2 has" or "ranks 0, 1 have".
    static func ranks(_ ranks: [Int], _ one: String, _ many: String) -> String {
        ranks.count == 1 ? "rank \(ranks[0]) \(one)" : "ranks \(ranks.map(String.init).joined(separator: ", ")) \(many)"
    }

    static func format(_ s: Double) -> String { String(Int(s.rounded())) }
}
