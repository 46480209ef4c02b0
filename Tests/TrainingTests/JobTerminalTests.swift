import Foundation
import Testing
@testable import Training

/// When `logging.progress: auto` draws the bar: only when the job's output is a terminal, which
/// under mpirun is mpirun's own output, not the pseudo-terminal every rank is given.
@Suite struct JobTerminalTests {
    @Test func aloneTheProcessOwnOutputDecides() {
        #expect(JobTerminal.isTerminal(ownOutputIsTerminal: true, underMPI: false, launcherOutput: nil))
        #expect(!JobTerminal.isTerminal(ownOutputIsTerminal: false, underMPI: false, launcherOutput: "/dev/pts/1"))
    }

    @Test func underMPIMpirunsOutputDecides() {
        #expect(JobTerminal.isTerminal(ownOutputIsTerminal: true, underMPI: true, launcherOutput: "/dev/pts/3"))
        #expect(JobTerminal.isTerminal(ownOutputIsTerminal: true, underMPI: true, launcherOutput: "/dev/tty1"))
        #expect(!JobTerminal.isTerminal(ownOutputIsTerminal: true, underMPI: true, launcherOutput: "pipe:[48213]"))
        #expect(!JobTerminal.isTerminal(ownOutputIsTerminal: true, underMPI: true, launcherOutput: "/tmp/job.out"))
        // A remote node's daemon, or a parent that is not mpirun: nothing tells, so plain lines.
        #expect(!JobTerminal.isTerminal(ownOutputIsTerminal: true, underMPI: true, launcherOutput: nil))
    }

    @Test func theParentsOutputIsReadOnlyFromMpirun() {
        // This test's parent is not mpirun.
        #expect(JobTerminal.launcherOutputPath(parent: getppid()) == nil)
    }

    @Test func autoFollowsTheDecision() {
        #expect(ProgressReporter(setting: .auto, totalSteps: 10, epochs: 1, isTerminal: false).style == .plain)
        #expect(ProgressReporter(setting: .auto, totalSteps: 10, epochs: 1, isTerminal: true).style == .bar)
    }
}
