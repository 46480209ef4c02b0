import Foundation
import Testing

/// Whether launch/make_image_folder.py can write a Fashion-MNIST folder here (launch/test.sh
/// makes sure it can, and requires these tests to run).
enum ImageFolderWriting {
    static let possible: Bool = {
        if ProcessInfo.processInfo.environment["TANDEM_REQUIRE_IMAGE_FIXTURES"] == "1" { return true }
        guard FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")
        else { return false }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import PIL, numpy"]
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }()
}

extension MPIJobs {
    /// An image folder read under mpirun (tandem-data-check): the ranks' shards together are the
    /// one-rank epoch, sample for sample; a file found damaged while one rank decodes its shard
    /// ends the whole job with the file named, and never leaves the other rank waiting.
    @Suite(
        "Image folders under mpirun", .serialized,
        .enabled(if: ImageFolderWriting.possible, "needs python3 with Pillow and the Fashion-MNIST files"))
    struct ImageFolderMPITests {

        static var harness: String {
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
                .appendingPathComponent("tandem-data-check").path
        }

        /// The first `limit` Fashion-MNIST training images (and as many test ones) as an image folder.
        static func writeFolder(limit: Int = 50, into folder: String? = nil) throws -> String {
            let root =
                folder
                ?? FileManager.default.temporaryDirectory.appendingPathComponent("tandem-folder-\(UUID().uuidString)")
                .path
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = [
                "python3", packageRoot + "/launch/make_image_folder.py", "fashion-mnist", root, "--limit", "\(limit)",
            ]
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            try #require(p.terminationStatus == 0, "launch/make_image_folder.py failed")
            return root
        }

        static func run(ranks: Int, _ folder: String) throws -> MPIRun {
            try MPIRun.launch(
                "/usr/bin/env",
                [
                    "mpirun", "-np", "\(ranks)", "--oversubscribe", "--mca", "btl", "self,vader,tcp", harness, folder,
                    "3",
                ],
                environment: ["TANDEM_NUM_THREADS": "1"], timeout: 90)
        }

        static func samples(_ run: MPIRun) -> [String] {
            run.stdout.split(separator: "\n").filter { $0.hasPrefix("SAMPLE ") }.map(String.init).sorted()
        }

        @Test func twoRanksTogetherLoadWhatOneRankLoads() throws {
            let folder = try Self.writeFolder()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let one = try Self.run(ranks: 1, folder), two = try Self.run(ranks: 2, folder)
            #expect(one.status == 0 && two.status == 0, "\(one.stderr)\n\(two.stderr)")
            #expect(one.perRank("LOADED") == [0: "50"])
            #expect(two.perRank("LOADED") == [0: "25", 1: "25"])  // each rank decodes only its own half
            let all = Self.samples(one)
            #expect(all.count == 50 && Set(all.map { $0.split(separator: " ")[1] }).count == 50)
            #expect(Self.samples(two) == all)
        }

        @Test func aFileDamagedInOneRanksShardEndsTheJobNamingIt() throws {
            let folder = try Self.writeFolder()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            // A flipped byte inside the compressed data: the header check passes, decoding does not.
            let fm = FileManager.default
            let classFolder = folder + "/train/" + (try fm.contentsOfDirectory(atPath: folder + "/train").sorted()[0])
            let file = classFolder + "/" + (try fm.contentsOfDirectory(atPath: classFolder).sorted()[0])
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
            let idat = try #require((0..<(bytes.count - 4)).first { bytes[$0..<($0 + 4)].elementsEqual("IDAT".utf8) })
            bytes[idat + 10] ^= 0xFF
            try Data(bytes).write(to: URL(fileURLWithPath: file))
            let run = try Self.run(ranks: 2, folder)
            #expect(run.status != 0)
            #expect(run.stderr.contains("tandem: error: \(file): corrupt PNG data (libpng: "), "\(run.stderr)")
            #expect(run.seconds < 90)
        }
    }
}
