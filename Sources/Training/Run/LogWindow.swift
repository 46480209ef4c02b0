import Collective
import Foundation

/// The loss and throughput since the last logged step.
///
/// A checkpoint keeps the window's loss terms and averages (`LogWindow.State`), so the first
/// line logged after a resume averages over the same steps, and to the same bits, as the line
/// of an uninterrupted run.
struct LogWindow {
    /// Σ loss · samples and Σ samples, keyed by micro-batch so the mean is the same bits on any world size.
    private var loss = OrderedSum(width: 2), start = Date(), samples = 0, steps = 0
    /// Other quantities averaged over every rank (a GAN's loss_d and loss_g, the exposed
    /// communication per step), logged beside the loss.
    private(set) var parts: [String: GlobalAverage] = [:]

    /// What a checkpoint records of a window: every rank's loss terms, and each part's
    /// (sum, count) per rank, in rank order.
    struct State: Codable, Equatable {
        var loss: [Double]
        var parts: [String: [Double]]
    }

    /// - Parameter key: the micro-batch's place in the run's global order (unique over ranks).
    mutating func add(loss value: Double, samples n: Int, key: Int) {
        loss.add(key: key, value * Double(n), Double(n))
        samples += n
    }

    mutating func add(part name: String, loss value: Double, samples n: Int) {
        parts[name, default: GlobalAverage()].add(value, weight: Double(n))
    }

    /// Ends a step that waited `exposedSeconds` for gradient communication after backward.
    mutating func endStep(exposedSeconds: Double) {
        steps += 1
        add(part: "exposed_comm_ms", loss: exposedSeconds * 1e3, samples: 1)
    }

    /// The parts' means over every rank (a collective; every rank has the same parts).
    func partMeans(over communicator: Communicator) -> [String: Double] {
        Dictionary(uniqueKeysWithValues: parts.keys.sorted().map { ($0, parts[$0]!.value(over: communicator)) })
    }

    /// The mean loss over every rank's samples, the world's samples per second and the wall
    /// time per step, then a new window. A collective: every rank calls it at the same step.
    mutating func close(over communicator: Communicator) -> (loss: Double, samplesPerSecond: Double, stepMs: Double) {
        let totals = loss.totals(over: communicator), mean = totals[1] > 0 ? totals[0] / totals[1] : .nan
        let elapsed = max(Date().timeIntervalSince(start), 1e-9)
        let rate = Double(samples * communicator.size) / elapsed
        let stepMs = elapsed * 1e3 / Double(max(steps, 1))
        self = LogWindow()
        return (mean, rate, stepMs)
    }

    /// Every rank's part of the window, gathered (a collective: every rank calls it).
    func state(over communicator: Communicator) -> State {
        let names = parts.keys.sorted()
        let local = names.flatMap { [parts[$0]!.sum, parts[$0]!.count] }
        let all = communicator.allgather(local), width = names.count * 2
        var gathered: [String: [Double]] = [:]
        for (i, name) in names.enumerated() {
            var values: [Double] = []
            for r in 0..<communicator.size {
                let at = r * width + 2 * i
                values += [all[at], all[at + 1]]
            }
            gathered[name] = values
        }
        return State(loss: communicator.allgather(loss.terms), parts: gathered)
    }

    /// Restores a checkpoint's window on this rank. The loss terms carry their keys, so rank 0
    /// takes them all on any world size; each part goes back to its rank when the world size is
    /// the one that saved it (the same sums in the same order), and to rank 0 otherwise.
    mutating func restore(_ state: State, rank: Int, worldSize: Int) {
        self = LogWindow()
        if rank == 0 { loss = OrderedSum(width: 2, terms: state.loss) }
        for (name, values) in state.parts {
            let savedRanks = values.count / 2
            if savedRanks == worldSize {
                parts[name] = GlobalAverage(sum: values[2 * rank], count: values[2 * rank + 1])
            } else {
                var sum = 0.0, count = 0.0
                for at in stride(from: 0, to: values.count, by: 2) {
                    (sum, count) = (sum + values[at], count + values[at + 1])
                }
                parts[name] = rank == 0 ? GlobalAverage(sum: sum, count: count) : GlobalAverage()
            }
        }
    }
}
