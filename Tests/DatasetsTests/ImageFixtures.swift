import Foundation

/// The image files of launch/make_image_fixtures.py (written by Pillow), made once per test
/// process in a temporary folder, and its manifest of what each file holds.
///
/// Without python3 and Pillow the image tests are skipped, unless TANDEM_REQUIRE_IMAGE_FIXTURES=1
/// (launch/test.sh sets it, after installing them), where they fail instead.
enum ImageFixtures {
    struct Manifest: Decodable {
        struct File: Decodable {
            let height, width, channels, bitDepth, samplesPerPixel: Int
            let format: String
            /// The array written, (C, H, W), colour channels only.
            let values: [Int]
            /// Pillow's decode of a JPEG, (C, H, W).
            let pillow: [Int]?
        }
        struct Luma: Decodable {
            let source: String
            let values: [Int]
        }
        struct Resized: Decodable {
            let height, width: Int
            let float: [Double]
            let grey8: [Int]
            let rgb8: [Int]
        }
        struct Resize: Decodable {
            let grey, rgb: String
            let sizes: [Resized]
        }
        struct Sample: Decodable { let height, width: Int }

        let files: [String: File]
        /// File name to the words its error must contain.
        let damaged: [String: String]
        let luma: Luma
        let resize: Resize
        let samples: [String: Sample]
    }

    struct Unavailable: Error, CustomStringConvertible { let description: String }

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    static let required = ProcessInfo.processInfo.environment["TANDEM_REQUIRE_IMAGE_FIXTURES"] == "1"

    /// The folder and manifest, or why they could not be made.
    static let made: Result<(folder: String, manifest: Manifest), Unavailable> = make()

    /// Whether the image tests run: the fixtures exist, or they are required (and then fail).
    static var available: Bool { required || (try? made.get()) != nil }

    static func folder() throws -> String { try made.get().folder }
    static func manifest() throws -> Manifest { try made.get().manifest }
    static func path(_ name: String) throws -> String { try folder() + "/" + name }

    /// Runs a script of launch/ with python3; throws what it said on failure.
    /// - Parameters:
    ///   - script: e.g. "make_image_fixtures.py".
    ///   - arguments: its arguments.
    static func python(_ script: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", packageRoot + "/launch/" + script] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw Unavailable(description: "python3 cannot be started: \(error)")
        }
        let said = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Unavailable(description: "launch/\(script) failed (python3 with Pillow needed): \(said)")
        }
    }

    private static func make() -> Result<(folder: String, manifest: Manifest), Unavailable> {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-images-\(UUID().uuidString)")
            .path
        do {
            try python("make_image_fixtures.py", [folder])
            let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/manifest.json"))
            return .success((folder, try JSONDecoder().decode(Manifest.self, from: data)))
        } catch let error as Unavailable {
            return .failure(error)
        } catch {
            return .failure(Unavailable(description: "the fixtures' manifest.json cannot be read: \(error)"))
        }
    }
}
