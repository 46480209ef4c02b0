import ArgumentParser
import CMPI
import Foundation
import NN

/// `tandem info`: what this build is and what it will use on this machine.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Print the build's SIMD target, the CPU's features, the thread count and the MPI library.")

    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let cpu = Self.cpuFlags()
        let required = Self.requiredFeatures
        let missing = required.filter { !cpu.contains($0) }
        var mpiVersion = [CChar](repeating: 0, count: Int(tandem_mpi_max_library_version_string()) + 1)
        var length: Int32 = 0
        MPI_Get_library_version(&mpiVersion, &length)
        let mpi = String(cString: mpiVersion).split(separator: "\n").first.map(String.init) ?? "unknown"
        let info: [String: String] = [
            "version": TandemVersion.string,
            "arch": Self.arch,
            "simd_build": required.isEmpty ? "portable" : required.joined(separator: ","),
            "cpu_missing": missing.joined(separator: ","),
            "threads_per_rank": String(ThreadPool.shared.threadCount),
            "allocator_keeps_blocks": String(Storage.keepBlocksInHeap),
            "mpi_library": mpi,
        ]
        if json {
            let data = try JSONSerialization.data(withJSONObject: info, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("tandem \(TandemVersion.string) (\(Self.arch))")
        print("SIMD build:        \(info["simd_build"]!)")
        print(
            "CPU support:       \(missing.isEmpty ? "ok" : "MISSING \(missing.joined(separator: ", ")): rebuild on this machine or use an x86-64 CPU with AVX2/FMA/F16C")"
        )
        print("threads per rank:  \(ThreadPool.shared.threadCount) (set TANDEM_NUM_THREADS to change)")
        print("MPI library:       \(mpi)")
        print(
            "allocator:         \(Storage.keepBlocksInHeap ? "keeps freed activation buffers, one heap for all threads (glibc mallopt)" : "system default")"
        )
        if !missing.isEmpty { throw ExitCode(1) }
    }

    #if arch(x86_64)
        static let arch = "x86_64"
        /// Package.swift compiles the kernels with these enabled on x86-64.
        static let requiredFeatures = ["avx2", "fma", "f16c"]
    #else
        static let arch = "arm64"
        static let requiredFeatures: [String] = []
    #endif

    /// The CPU feature flags the kernel reports (Linux /proc/cpuinfo).
    static func cpuFlags() -> Set<String> {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") || $0.hasPrefix("Features") }),
            let colon = line.firstIndex(of: ":")
        else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }
}
