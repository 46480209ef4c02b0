import Foundation
import Testing

/// Runs `tandem-mpi-check` under mpirun in real processes; every run is bounded by a timeout,
/// so a hang fails the test instead of stalling the suite.
struct MPIRun {
    let status: Int32
    let stdout: String
    let stderr: String
    let seconds: Double

    /// The harness binary, next to the test bundle in the build folder.
    static var harness: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("tandem-mpi-check").path
    }

    /// The job as it runs: its output so far, for a test that acts on it mid-run.
    struct Live {
        let stdoutURL: URL, stderrURL: URL
        var stdout: String { String(decoding: (try? Data(contentsOf: stdoutURL)) ?? Data(), as: UTF8.self) }
        var stderr: String { String(decoding: (try? Data(contentsOf: stderrURL)) ?? Data(), as: UTF8.self) }
    }

    static func run(
        ranks: Int, _ arguments: [String], timeout: Double = 120,
        whileRunning: ((Live) throws -> Void)? = nil
    ) throws -> MPIRun {
        try launch(
            "/usr/bin/env",
            ["mpirun", "-np", "\(ranks)", "--oversubscribe", "--mca", "btl", "self,vader,tcp", harness]
                + arguments, environment: ["TANDEM_NUM_THREADS": "1"], timeout: timeout, whileRunning: whileRunning)
    }

    /// Runs `executable` (mpirun or a launch script), bounded by `timeout`.
    /// - Parameter whileRunning: called once the job has started; the timeout counts on meanwhile.
    static func launch(
        _ executable: String, _ arguments: [String], environment: [String: String],
        timeout: Double, whileRunning: ((Live) throws -> Void)? = nil
    ) throws -> MPIRun {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        env.merge(environment) { $1 }
        process.environment = env
        // Output goes to files, which never block the job the way a full pipe would.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-mpirun-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let outURL = dir.appendingPathComponent("stdout"), errURL = dir.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        let start = Date()
        try process.run()
        do { try whileRunning?(Live(stdoutURL: outURL, stderrURL: errURL)) } catch {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw error
        }
        while process.isRunning && Date().timeIntervalSince(start) < timeout { usleep(20_000) }
        if process.isRunning {
            process.terminate()
            kill(process.processIdentifier, SIGKILL)
            Issue.record("\(executable) \(arguments) still running after \(timeout) s: a hang")
        }
        process.waitUntilExit()
        let outData = (try? Data(contentsOf: outURL)) ?? Data(), errData = (try? Data(contentsOf: errURL)) ?? Data()
        return MPIRun(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self), seconds: Date().timeIntervalSince(start))
    }

    /// The global mean loss of the last step printed by rank 0.
    var loss: Double? {
        stdout.split(separator: "\n").first { $0.hasPrefix("LOSS ") }.flatMap { Double($0.dropFirst(5)) }
    }

    /// The values after "PARAMS" printed by rank 0.
    var parameters: [Double] { values("PARAMS") }

    /// The optimizer state rank 0 printed after the ranks gathered it ("STATE").
    var optimizerState: [Double] { values("STATE") }

    /// The numbers on rank 0's line that starts with `tag` and a space.
    func values(_ tag: String) -> [Double] {
        guard let line = stdout.split(separator: "\n").first(where: { $0.hasPrefix(tag + " ") }) else { return [] }
        return line.dropFirst(tag.count + 1).split(separator: " ").compactMap { Double($0) }
    }

    /// Lines "TAG rank rest" printed by rank 0, as rest by rank.
    func perRank(_ tag: String) -> [Int: String] {
        var out: [Int: String] = [:]
        for line in stdout.split(separator: "\n") where line.hasPrefix(tag + " ") {
            let f = line.split(separator: " ", maxSplits: 2)
            out[Int(f[1])!] = String(f[2])
        }
        return out
    }
}

extension MPIRun {
    /// Network namespace of each rank, from the NETNS lines.
    var namespaces: Set<String> {
        Set(stdout.split(separator: "\n").filter { $0.hasPrefix("NETNS ") }.map { String($0.split(separator: " ")[2]) })
    }
}

/// Runs a launch script of the project and returns its exit status.
@discardableResult
func runScript(_ path: String, _ arguments: [String]) throws -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/bash")
    p.arguments = [path] + arguments
    try p.run()
    p.waitUntilExit()
    return p.terminationStatus
}

/// The package root, from this file's location (Tests/CollectiveTests/...).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// Largest |a - b| / (1e-3 + |b|) over two parameter lists.
func relativeDifference(_ a: [Double], _ b: [Double]) -> Double {
    zip(a, b).map { Swift.abs($0 - $1) / (1e-3 + Swift.abs($1)) }.max() ?? .infinity
}
