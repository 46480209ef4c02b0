import Foundation
import Testing

/// Every test that starts an MPI job, one job at a time: concurrent jobs (one of them across
/// the simulated hosts' bridge) have been seen to break each other's runtime routing.
@Suite("Real MPI jobs", .serialized)
struct MPIJobs {}

extension MPIJobs {
    @Suite("Data parallelism in real MPI processes", .serialized)
    struct MPIIntegrationTests {
        /// N ranks on shards of each global batch end where one rank on the whole batch ends.
        /// Tolerance 1e-4 relative (plus 1e-7 absolute via the 1e-3 floor): the ranks sum the
        /// same per-sample gradients in a different order, so only float rounding may differ.
        @Test func shardsMatchOneRankOnTheGlobalBatch() throws {
            let single = try MPIRun.run(ranks: 1, ["equivalence"])
            #expect(single.status == 0, "\(single.stderr)")
            let reference = single.parameters
            #expect(reference.count > 300)
            for ranks in 2...4 {
                let run = try MPIRun.run(ranks: ranks, ["equivalence"])
                #expect(run.status == 0, "\(ranks) ranks: \(run.stderr)")
                #expect(run.parameters.count == reference.count)
                let diff = relativeDifference(run.parameters, reference)
                #expect(diff < 1e-4, "\(ranks) ranks differ from one rank by \(diff)")
                // The loss rank 0 reports is the mean over every rank's samples.
                #expect(
                    Swift.abs((run.loss ?? .nan) - (single.loss ?? 0)) < 1e-5,
                    "global loss \(String(describing: run.loss))")
            }
        }

        /// The optimizer sharded over the ranks (ZeRO stage 1), with SGD's momentum and with Adam:
        /// each rank sums and updates only its block of every bucket, yet the job ends where one
        /// rank on the global batch ends, every rank holds bit-identical weights, and the optimizer
        /// state the ranks gather (what a checkpoint saves) is one rank's state.
        @Test(arguments: ["sgd", "adam"])
        func shardedOptimizerMatchesOneRank(optimizer: String) throws {
            let single = try MPIRun.run(ranks: 1, ["equivalence", "--optimizer", optimizer])
            #expect(single.status == 0, "\(single.stderr)")
            #expect(single.optimizerState.count == single.parameters.count * (optimizer == "adam" ? 2 : 1))
            for ranks in [2, 3] {
                let run = try MPIRun.run(ranks: ranks, ["equivalence", "--optimizer", optimizer, "--shard-optimizer"])
                #expect(run.status == 0, "\(ranks) ranks: \(run.stderr)")
                let owned = run.perRank("OWNED").mapValues { $0.split(separator: " ").compactMap { Int($0) } }
                let total = owned[0]?.last ?? 0
                #expect(owned.count == ranks && owned.values.reduce(0) { $0 + $1[0] } == total, "\(owned)")
                #expect(
                    owned.values.allSatisfy { $0[0] < total * 2 / ranks },
                    "each rank should own about 1/\(ranks): \(owned)")
                #expect(
                    Set(run.perRank("DIGEST").values).count == 1 && run.perRank("DIGEST").count == ranks,
                    "\(run.stdout)")
                let diff = relativeDifference(run.parameters, single.parameters)
                #expect(
                    run.parameters.count == single.parameters.count && diff < 1e-4,
                    "\(ranks) ranks differ from one rank by \(diff)")
                let stateDiff = relativeDifference(run.optimizerState, single.optimizerState)
                #expect(
                    run.optimizerState.count == single.optimizerState.count && stateDiff < 1e-4,
                    "state differs by \(stateDiff)")
            }
        }

        /// The ring reduce-scatters (deterministic mode's int64, the sharded optimizer's fp32, fp16
        /// and bf16) and the in-place fp32 allgather give every rank the exact totals, on 1 to 4 ranks.
        @Test func reduceScatterAndAllgatherMatchNaiveSums() throws {
            for ranks in 1...4 {
                let run = try MPIRun.run(ranks: ranks, ["reduce-scatter"], timeout: 60)
                #expect(run.status == 0, "\(ranks) ranks: \(run.stderr)")
                #expect(
                    run.stdout.components(separatedBy: "REDUCE-SCATTER OK").count == ranks + 1,
                    "\(ranks) ranks: \(run.stdout)")
            }
        }

        /// The shared-memory allreduce on 2-4 ranks: exact sums, the same bits everywhere, a
        /// segment too big for /dev/shm refused on every rank with the reason, and no segment
        /// left behind in /dev/shm.
        @Test func sharedMemoryAllreduceSumsExactlyAndCleansUp() throws {
            func segments() -> Set<String> {
                Set(
                    ((try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? []).filter {
                        $0.hasPrefix("tandem-")
                    })
            }
            let before = segments()
            for ranks in 2...4 {
                let run = try MPIRun.run(ranks: ranks, ["shared-memory"], timeout: 60)
                #expect(run.status == 0, "\(ranks) ranks: \(run.stderr)")
                #expect(
                    run.stdout.components(separatedBy: "SHARED-MEMORY OK").count == ranks + 1,
                    "\(ranks) ranks: \(run.stdout)")
                let refused = run.stdout.split(separator: "\n").filter { $0.hasPrefix("SHARED-MEMORY REFUSED") }
                // The free space it names is /dev/shm's (within what the other tests may use meanwhile).
                var fs = statvfs()
                let freeMiB = statvfs("/dev/shm", &fs) == 0 ? Double((Int(fs.f_bavail) * Int(fs.f_frsize)) >> 20) : -1
                #expect(
                    refused.count == ranks
                        && refused.allSatisfy { line in
                            guard
                                let named = line.split(separator: "rank 0: /dev/shm has ").last?.split(separator: " ")
                                    .first.flatMap({ Double($0) }),
                                line.contains("MiB free")
                            else { return false }
                            return abs(named - freeMiB) <= max(64, freeMiB / 10)
                        }, "\(refused) (/dev/shm: \(freeMiB) MiB free)")
            }
            #expect(segments() == before, "segments left in /dev/shm: \(segments().subtracting(before))")
        }

        /// DDP through shared memory and through MPI_Allreduce: the same bits on two ranks (each
        /// sum is one addition either way), and on three both match one rank on the global batch.
        @Test func sharedMemoryAndMPIGiveTheSameTraining() throws {
            let single = try MPIRun.run(ranks: 1, ["equivalence"])
            for ranks in [2, 3] {
                let shared = try MPIRun.run(ranks: ranks, ["equivalence"])
                let mpi = try MPIRun.run(ranks: ranks, ["equivalence", "--shared-memory", "false"])
                #expect(shared.status == 0 && mpi.status == 0, "\(shared.stderr)\n\(mpi.stderr)")
                #expect(
                    shared.values("SHARED") == [1] && mpi.values("SHARED") == [0], "\(shared.stdout)\n\(mpi.stdout)")
                #expect(Set(shared.perRank("DIGEST").values).count == 1 && Set(mpi.perRank("DIGEST").values).count == 1)
                if ranks == 2 {
                    #expect(shared.parameters == mpi.parameters && shared.perRank("DIGEST") == mpi.perRank("DIGEST"))
                }
                for run in [shared, mpi] { #expect(relativeDifference(run.parameters, single.parameters) < 1e-4) }
            }
        }

        /// Clipping sees the averaged gradients: every rank computes the same norm in every step,
        /// equal to the norm of one rank's gradient on the whole global batch.
        @Test func clippingNormIsIdenticalOnEveryRank() throws {
            func norms(_ run: MPIRun) -> [Int: [Int: Double]] {
                var out: [Int: [Int: Double]] = [:]
                for line in run.stdout.split(separator: "\n") where line.hasPrefix("NORM ") {
                    let f = line.split(separator: " ")
                    out[Int(f[1])!, default: [:]][Int(f[2])!] = Double(f[3])!
                }
                return out
            }
            let reference = try MPIRun.run(ranks: 1, ["equivalence", "--max-norm", "0.1"])
            let single = norms(reference)[0]!
            let run = try MPIRun.run(ranks: 3, ["equivalence", "--max-norm", "0.1"])
            #expect(run.status == 0, "\(run.stderr)")
            let perRank = norms(run)
            #expect(perRank.count == 3 && single.count == 3)
            for (rank, steps) in perRank {
                #expect(steps == perRank[0]!, "rank \(rank) clipped with \(steps), rank 0 with \(perRank[0]!)")
                for (s, n) in steps {
                    #expect(
                        Swift.abs(n - single[s]!) <= 1e-4 * single[s]!, "step \(s): \(n) vs one rank's \(single[s]!)")
                }
            }
            // The norms exceed 0.1, so clipping acted, and the clipped run still matches one rank.
            #expect(
                single.values.allSatisfy { $0 > 0.1 }, "norms \(single) should exceed max_norm 0.1 so clipping acts")
            #expect(relativeDifference(run.parameters, reference.parameters) < 1e-4)
        }

        /// An infinity in one rank's fp16 batch overflows the averaged gradients on every rank:
        /// all ranks skip that step, back off the loss scale together, and keep bit-identical weights.
        /// Sharded, each rank checks its own block; the ranks' sum of squares is what agrees.
        @Test(arguments: [[], ["--shard-optimizer"]])
        func oneRanksOverflowSkipsTheStepEverywhere(sharding: [String]) throws {
            let run = try MPIRun.run(ranks: 2, ["overflow"] + sharding)
            #expect(run.status == 0, "\(run.stderr)")
            var byStep: [Int: [Int: String]] = [:]
            for line in run.stdout.split(separator: "\n") where line.hasPrefix("STEP ") {
                let f = line.split(separator: " ", maxSplits: 3)
                byStep[Int(f[2])!, default: [:]][Int(f[1])!] = String(f[3])
            }
            #expect(byStep.count == 4)
            for (s, ranks) in byStep {
                #expect(ranks.count == 2 && ranks[0] == ranks[1], "step \(s): \(ranks)")
            }
            let fields = (0..<4).map { byStep[$0]![0]!.split(separator: " ").map(String.init) }
            #expect(fields.map { $0[0] } == ["false", "true", "false", "false"])
            #expect(fields.map { $0[1] } == ["1024.0", "512.0", "512.0", "1024.0"])
            #expect(
                fields[1][2] == fields[0][2] && fields[2][2] != fields[1][2],
                "the skipped step must leave the weights alone")
        }

        @Test func accumulationCommunicatesOnlyOnTheLastMicroBatch() throws {
            let reference = try MPIRun.run(ranks: 1, ["equivalence"]).parameters
            let run = try MPIRun.run(ranks: 2, ["equivalence", "--accumulate", "2"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(relativeDifference(run.parameters, reference) < 1e-4)
        }

        /// 16-bit gradients on the wire: the sums are formed in fp32, so the result stays close;
        /// reduce-scattered for a sharded optimizer too.
        @Test(arguments: ["float16", "bfloat16"], [[], ["--shard-optimizer"]])
        func sixteenBitWire(format: String, sharding: [String]) throws {
            let reference = try MPIRun.run(ranks: 1, ["equivalence"]).parameters
            let run = try MPIRun.run(ranks: 2, ["equivalence", "--wire", format] + sharding)
            #expect(run.status == 0, "\(run.stderr)")
            let diff = relativeDifference(run.parameters, reference)
            #expect(diff < (format == "float16" ? 2e-3 : 2e-2), "\(format) wire differs by \(diff)")
            #expect(diff > 0, "a 16-bit wire that changes nothing was not used")
        }

        /// Overlap, measured. Backward's side is deterministic: in every step, buckets become
        /// ready (and are handed to the communication thread) before backward ends. When their
        /// allreduce starts is up to the OS, which may give the woken thread a core only after
        /// backward when both cores are busy (two ranks, and other test suites running beside);
        /// it must still happen in at least one of the 12 measured steps.
        @Test func allreducesStartBeforeBackwardEnds() throws {
            let run = try MPIRun.run(ranks: 2, ["overlap"])
            #expect(run.status == 0, "\(run.stderr)")
            let lines = run.stdout.split(separator: "\n").filter { $0.hasPrefix("OVERLAP") }
            func field(_ name: String) -> [Int] {
                lines.map { line in
                    line.split(separator: " ").first { $0.hasPrefix(name + "=") }.flatMap {
                        Int($0.split(separator: "=")[1])
                    } ?? 0
                }
            }
            let buckets = field("buckets"), ready = field("ready_before_backward_end"),
                started = field("started_before_backward_end")
            #expect(lines.count == 12 && buckets.allSatisfy { $0 == 6 })
            #expect(ready == buckets, "buckets ready before backward ended, per step: \(ready) of \(buckets)")
            #expect(started.contains { $0 >= 1 }, "allreduces started before backward ended, per step: \(started)")
        }

        @Test(arguments: [
            (
                "mismatch-shape", 2,
                "rank 1 has parameter layers.4.weight (17, 64), rank 0 has parameter layers.4.weight (16, 64)"
            ),
            ("mismatch-config", 3, "rank 2 has config hash b, rank 0 has config hash a"),
            ("die", 2, "rank 1 of 2: error: rank 1 failed on purpose"),
        ])
        func failuresEndTheJobWithAMessage(scenario: String, ranks: Int, message: String) throws {
            let run = try MPIRun.run(ranks: ranks, [scenario], timeout: 60)
            #expect(run.status != 0)
            #expect(run.stderr.contains(message), "\(scenario): \(run.stderr)")
            #expect(run.seconds < 60)
        }

        /// A rank that arrives 3 s late at an allreduce is named by rank 0 after 1 s, with what it
        /// last did; the ranks waiting are named too, and the job then finishes normally.
        @Test func aStalledCollectiveNamesTheRanksThatDidNotArrive() throws {
            let run = try MPIRun.run(ranks: 3, ["stall", "--stall-sleep", "3", "--stall-warning", "1"], timeout: 60)
            #expect(run.status == 0, "\(run.stderr)")
            let warnings = run.stderr.split(separator: "\n").filter { $0.hasPrefix("STALL ") }
            #expect(!warnings.isEmpty, "\(run.stdout)\n\(run.stderr)")
            #expect(
                warnings.allSatisfy {
                    $0.contains("ranks 0, 1 have waited") && $0.contains("in collective #2 (allreduce of 1 doubles)")
                        && $0.contains("rank 2 has not arrived: rank 2 finished collective #1 (barrier)")
                }, "\(warnings)")
            // Warned once a second, not on every check.
            #expect(warnings.count >= 1 && warnings.count <= 3, "\(warnings)")
            #expect(run.stdout.components(separatedBy: "SUM 3.0").count - 1 == 3)
        }

        /// The shared-memory allreduce is watched like MPI's: a rank 2 s late is named.
        @Test func aStallInTheSharedMemoryAllreduceIsNamed() throws {
            let run = try MPIRun.run(
                ranks: 3, ["stall", "--stall-in-shared-memory", "--stall-sleep", "2", "--stall-warning", "1"],
                timeout: 60)
            #expect(run.status == 0, "\(run.stderr)")
            let warnings = run.stderr.split(separator: "\n").filter { $0.hasPrefix("STALL ") }
            #expect(
                !warnings.isEmpty
                    && warnings.allSatisfy {
                        $0.contains("(shared-memory allreduce of 64 floats)")
                            && $0.contains("rank 2 has not arrived")
                    }, "\(run.stdout)\n\(run.stderr)")
            #expect(run.stdout.components(separatedBy: "SUM 3.0").count - 1 == 3)
        }

        /// With stall_abort_seconds the stall ends the job with the same message instead of hanging.
        @Test func aStallLongerThanTheAbortTimeEndsTheJob() throws {
            let run = try MPIRun.run(
                ranks: 2, ["stall", "--stall-sleep", "50", "--stall-warning", "1", "--stall-abort", "2"], timeout: 40)
            #expect(run.status != 0)
            #expect(
                run.stderr.contains("rank 0 of 2: error: stalled collective: rank 0 has waited 2 s in collective #2"),
                "\(run.stderr)")
            #expect(
                run.stderr.contains("rank 1 has not arrived") && run.stderr.contains("distributed.stall_abort_seconds"))
            #expect(run.seconds < 30)
        }

        /// Two simulated hosts (network namespaces with their own addresses on a bridge) run one
        /// job through launch/multinode.sh, with MPI traffic over TCP between them, and match the
        /// single-node result. Needs root for `ip netns`; launch/netns-hosts.sh builds and removes
        /// the hosts.
        @Test(.enabled(if: getuid() == 0, "needs root to create network namespaces"))
        func multiNodeOverTCPBetweenNamespaces() throws {
            let script = packageRoot + "/launch/netns-hosts.sh"
            try runScript(script, ["down", "2"])
            #expect(try runScript(script, ["up", "2"]) == 0, "could not create the simulated hosts")
            defer { _ = try? runScript(script, ["down", "2"]) }
            let hostfile = NSTemporaryDirectory() + "tandem-netns-hostfile"
            try "10.77.0.11 slots=1\n10.77.0.12 slots=1\n".write(toFile: hostfile, atomically: true, encoding: .utf8)
            let run = try MPIRun.launch(
                packageRoot + "/launch/multinode.sh",
                [
                    hostfile, "--mca", "plm_rsh_agent", script + " agent", "--",
                    MPIRun.harness, "equivalence",
                ], environment: ["TANDEM_IFACE": "10.77.0.0/24", "TANDEM_NUM_THREADS": "1"], timeout: 120)
            #expect(run.status == 0, "\(run.stderr)")
            let here = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net")
            #expect(run.namespaces.count == 2 && !run.namespaces.contains(here), "ranks ran in \(run.namespaces)")
            let reference = try MPIRun.run(ranks: 1, ["equivalence"]).parameters
            #expect(relativeDifference(run.parameters, reference) < 1e-4)
        }
    }
}
