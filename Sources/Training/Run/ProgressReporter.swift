import Foundation

/// Rank 0's view of training on its terminal: a redrawn progress bar with epoch, step, loss,
/// throughput and ETA, or one plain line per update when the output is not a terminal.
public final class ProgressReporter {
    public enum Style { case bar, plain, none }

    public let style: Style
    private let totalSteps: Int, epochs: Int
    private let start = Date()
    private var drewBar = false

    /// - Parameters:
    ///   - setting: auto, bar, plain or none (auto: bar when the job's output is a terminal).
    ///   - totalSteps: optimizer steps in the whole run, for the bar and the ETA.
    ///   - epochs: epochs in the run.
    ///   - isTerminal: whether the job's output is a terminal (under mpirun, mpirun's own output).
    public init(setting: ProgressStyle, totalSteps: Int, epochs: Int, isTerminal: Bool = JobTerminal.isTerminal) {
        switch setting {
        case .bar: style = .bar
        case .plain: style = .plain
        case .none: style = .none
        case .auto: style = isTerminal ? .bar : .plain
        }
        (self.totalSteps, self.epochs) = (max(totalSteps, 1), epochs)
    }

    /// The status text for `step` of the run.
    /// - Parameters:
    ///   - epoch: the epoch in progress.
    ///   - step: optimizer steps taken.
    ///   - loss: the latest training loss.
    ///   - samplesPerSecond: the training throughput.
    ///   - lossScale: the fp16 loss scale, when scaling.
    ///   - skipped: the steps skipped so far, when scaling.
    public func line(
        epoch: Int, step: Int, loss: Double, samplesPerSecond: Double, lossScale: Double? = nil,
        skipped: Int? = nil
    ) -> String {
        let elapsed = Date().timeIntervalSince(start)
        let eta = step > 0 ? elapsed / Double(step) * Double(totalSteps - step) : 0
        let scale = lossScale.map { String(format: " scale %g skipped %d", $0, skipped ?? 0) } ?? ""
        return String(
            format: "epoch %d/%d step %d/%d loss %.4f %.0f samples/s%@ ETA %@", epoch + 1, epochs, step, totalSteps,
            loss, samplesPerSecond, scale, Self.clock(eta))
    }

    /// Shows progress after `step` optimizer steps.
    public func update(
        epoch: Int, step: Int, loss: Double, samplesPerSecond: Double, lossScale: Double? = nil, skipped: Int? = nil
    ) {
        let text = line(
            epoch: epoch, step: step, loss: loss, samplesPerSecond: samplesPerSecond, lossScale: lossScale,
            skipped: skipped)
        switch style {
        case .none: return
        case .plain: print(text)
        case .bar:
            let width = 24, filled = min(width, width * step / totalSteps)
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            print("\r\u{1B}[2K[\(bar)] \(text)", terminator: "")
            drewBar = true
        }
        fflush(stdout)
    }

    /// Prints a line (an evaluation result) without breaking the bar.
    public func message(_ text: String) {
        guard style != .none else { return }
        if drewBar { print(""); drewBar = false }
        print(text)
        fflush(stdout)
    }

    /// h:mm:ss.
    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.isFinite ? max(seconds, 0) : 0)
        return String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
    }
}
