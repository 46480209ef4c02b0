import Foundation
import Testing

/// A check failed while the job was running.
struct LiveFailure: Error, CustomStringConvertible {
    let description: String
}

/// Polls `condition` every 0.1 s until it holds or `timeout` seconds pass.
func waitFor(_ timeout: Double, _ condition: () -> Bool) -> Bool {
    let start = Date()
    while Date().timeIntervalSince(start) < timeout {
        if condition() { return true }
        usleep(100_000)
    }
    return condition()
}

/// True while process `pid` exists and has not exited (a zombie has).
func isRunning(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return false }
    return !stat[close...].hasPrefix(") Z") && !stat[close...].hasPrefix(") X")
}

/// The processes in network namespace `name` (`ip netns pids`).
func namespacePids(_ name: String) -> [Int32] {
    let p = Process(), pipe = Pipe()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["ip", "netns", "pids", name]
    p.standardOutput = pipe
    p.standardError = FileHandle.nullDevice
    guard (try? p.run()) != nil else { return [] }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { Int32($0) }.filter(isRunning)
}

/// The "PID rank pid host" lines of the loop scenario, by rank.
func rankPids(_ stdout: String) -> [Int32] {
    stdout.split(separator: "\n").filter { $0.hasPrefix("PID ") }.map { $0.split(separator: " ") }
        .sorted { Int($0[1])! < Int($1[1])! }.compactMap { Int32($0[2]) }
}

extension MPIJobs {
    /// No rank can hang the job: every rank watches the others, a stopped or cut-off rank is
    /// named and the job ends within the abort time, and a start that hangs is bounded.
    @Suite("Stalls, stopped ranks, partitions and startup", .serialized)
    struct StallTests {
        /// Rank 0 stopped (SIGSTOP) mid-run sends nothing more: rank 1 names it and ends the job
        /// within the abort time plus a margin, and no rank is left running. With two ranks, rank 1
        /// hears from no one and ends itself, which ends the job too.
        @Test(arguments: [2, 3])
        func aStoppedRankZeroIsNamedByAnotherRankAndTheJobEnds(ranks: Int) throws {
            var pids: [Int32] = []
            var stoppedAt = Date()
            defer { for pid in pids where isRunning(pid) { kill(pid, SIGCONT); kill(pid, SIGKILL) } }
            let arguments = ["loop", "--seconds", "120", "--stall-warning", "2", "--stall-abort", "6"]
            let run = try MPIRun.run(ranks: ranks, arguments, timeout: 90) { live in
                guard waitFor(60, { live.stdout.contains("LOOPING") }) else {
                    throw LiveFailure(description: "no LOOPING: \(live.stderr)")
                }
                pids = rankPids(live.stdout)
                guard pids.count == ranks else { throw LiveFailure(description: "PID lines: \(live.stdout)") }
                usleep(1_000_000)  // every rank has heard from every other by now
                kill(pids[0], SIGSTOP)
                stoppedAt = Date()
            }
            let took = Date().timeIntervalSince(stoppedAt)
            #expect(run.status != 0)
            #expect(took < 6 + 20, "the job ended \(took) s after rank 0 stopped")
            let err = run.stderr
            let waiting = ranks == 2 ? "rank 1 has waited" : "ranks 1, 2 have waited"
            #expect(err.contains("tandem: rank 1 of \(ranks): error: stalled collective: \(waiting)"), "\(err)")
            #expect(
                err.contains("rank 0 has not arrived: rank 0 (host ") && err.contains("has not been heard from for")
                    && err.contains(
                        ranks == 2
                            ? "rank 0 is stopped (SIGSTOP, a debugger, swapping) or unreachable, or this"
                            : "is stopped (SIGSTOP, a debugger, swapping) or its host is unreachable"),
                "\(err)")
            #expect(waitFor(10) { !pids.contains(where: isRunning) }, "still running: \(pids.filter(isRunning))")
        }

        /// A rank that does not start holds the others in MPI_Init; the startup watchdog ends the
        /// job after its timeout with the phase and the likely causes.
        @Test func aStartThatHangsEndsAfterTheStartupTimeout() throws {
            let run = try MPIRun.run(
                ranks: 3, ["startup", "--startup-delay", "120", "--startup-timeout", "5"], timeout: 60)
            #expect(run.status != 0)
            #expect(run.seconds < 5 + 25, "took \(run.seconds) s")
            let expected =
                "error: the job did not start within 5 s (distributed.startup_timeout_seconds): "
                + "still in MPI_Init"
            #expect(
                run.stderr.contains(expected) && run.stderr.contains("a host that cannot be reached"), "\(run.stderr)")
            #expect(!run.stdout.contains("STARTED"))
        }

        /// `tandem train` stops the startup watchdog once the ranks have checked each other: a run
        /// that lasts well past `distributed.startup_timeout_seconds` finishes normally.
        @Test func aTrainingRunOutlastsItsStartupTimeout() throws {
            let dir = NSTemporaryDirectory() + "tandem-startup-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let run = try TrainEndToEndTests.train(
                ranks: 2, batch: 16, runDir: dir,
                [
                    // 300 epochs last about 20 s on an idle machine: well past the timeout plus the margin.
                    "--set", "distributed.startup_timeout_seconds=4", "--set", "training.epochs=300",
                ])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(
                run.stdout.contains("test accuracy") && !run.stderr.contains("did not start"),
                "\(run.stdout)\n\(run.stderr)")
            #expect(run.seconds > 4 + 4, "the run took \(run.seconds) s: too short to show the watchdog was stopped")
        }

        /// Three simulated hosts; one host's link goes down mid-run. The others name the cut-off
        /// rank, and every process on every host, and mpirun, are gone within the abort time plus
        /// a margin: mpirun and the reachable daemons through TCP keepalive, the cut-off rank by
        /// itself, with its daemon.
        @Test(.enabled(if: getuid() == 0, "needs root to create network namespaces"))
        func aPartitionedHostLeavesNothingRunning() throws {
            let script = packageRoot + "/launch/netns-hosts.sh"
            try runScript(script, ["down", "3"])
            #expect(try runScript(script, ["up", "3"]) == 0, "could not create the simulated hosts")
            defer { _ = try? runScript(script, ["down", "3"]) }
            let hostfile = NSTemporaryDirectory() + "tandem-netns-partition-hostfile"
            let hosts = (11...13).map { "10.77.0.\($0) slots=1\n" }.joined()
            try hosts.write(toFile: hostfile, atomically: true, encoding: .utf8)
            let abort = 20.0, margin = 25.0
            var cutAt = Date(), cleanAfter = Double.infinity
            let run = try MPIRun.launch(
                packageRoot + "/launch/multinode.sh",
                [
                    hostfile, "--mca", "plm_rsh_agent", script + " agent", "--",
                    MPIRun.harness, "loop", "--seconds", "200", "--stall-warning", "3", "--stall-abort",
                    "\(Int(abort))",
                ], environment: ["TANDEM_IFACE": "10.77.0.0/24", "TANDEM_NUM_THREADS": "1"], timeout: 150
            ) { live in
                guard waitFor(60, { live.stdout.contains("LOOPING") }) else {
                    throw LiveFailure(description: "no LOOPING: \(live.stderr)")
                }
                usleep(3_000_000)  // heartbeats have gone both ways
                let down = Process()
                down.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                down.arguments = ["ip", "link", "set", "tandem-v3", "down"]
                try down.run()
                down.waitUntilExit()
                cutAt = Date()
                if waitFor(abort + margin, { (1...3).allSatisfy { namespacePids("tandem-h\($0)").isEmpty } }) {
                    cleanAfter = Date().timeIntervalSince(cutAt)
                }
            }
            let ended = Date().timeIntervalSince(cutAt)
            #expect(run.status != 0)
            #expect(cleanAfter < abort + margin, "left running: \((1...3).map { namespacePids("tandem-h\($0)") })")
            #expect(ended < abort + margin, "mpirun ended \(ended) s after the cut")
            #expect(
                run.stderr.contains("rank 2 has not arrived: rank 2 (host ")
                    && run.stderr.contains("has not been heard from for"), "\(run.stderr)")
        }
    }
}
