import Datasets
import Foundation
import Testing

@Suite(
    "PNG and JPEG decoding against the values Pillow wrote",
    .enabled(if: ImageFixtures.available, "needs python3 with Pillow to write the fixtures"))
struct ImageDecoderTests {
    static let pngs = [
        "grey8.png", "grey1.png", "grey16.png", "greyalpha8.png", "greytrns8.png", "rgb8.png", "rgba8.png",
        "palette8.png", "palette4.png", "palettetrns.png", "rgb16.png", "rgba16.png", "greyalpha16.png",
        "rgb8interlaced.png",
    ]
    static let jpegs = ["grey.jpg", "rgb.jpg", "greyprogressive.jpg", "rgbprogressive.jpeg"]

    @Test(arguments: pngs) func decodesEveryPNGVariantExactly(name: String) throws {
        let expected = try #require(try ImageFixtures.manifest().files[name])
        let path = try ImageFixtures.path(name)
        let header = try ImageDecoder.header(of: path)
        #expect(
            header
                == ImageHeader(
                    format: .png, width: expected.width, height: expected.height,
                    samplesPerPixel: expected.samplesPerPixel, bitDepth: expected.bitDepth))
        let image = try ImageDecoder.decode(path)
        #expect(image.channels == expected.channels && image.height == 5 && image.width == 7)
        let scale: Float = expected.bitDepth == 16 ? 65535 : 255
        #expect(image.pixels == expected.values.map { Float($0) / scale })
    }

    /// JPEG is lossy: the decode is compared with the source within its loss (measured: at most
    /// 4 levels of 255 for colour, 1 for grey, on these quality-95 gradients; bound 5), and with
    /// Pillow's decode, which uses the same libjpeg settings (measured: identical; bound 1 level).
    @Test(arguments: jpegs) func decodesJPEGsAsPillowDoes(name: String) throws {
        let expected = try #require(try ImageFixtures.manifest().files[name])
        let path = try ImageFixtures.path(name)
        #expect(try ImageDecoder.header(of: path).format == .jpeg)
        let image = try ImageDecoder.decode(path)
        #expect(image.channels == expected.channels && image.height == 5 && image.width == 7)
        let levels = image.pixels.map { Int(($0 * 255).rounded()) }
        let fromSource = zip(levels, expected.values).map { abs($0 - $1) }.max()!
        let fromPillow = zip(levels, try #require(expected.pillow)).map { abs($0 - $1) }.max()!
        #expect(fromSource <= 5, "\(name): \(fromSource) levels from the source")
        #expect(fromPillow <= 1, "\(name): \(fromPillow) levels from Pillow's decode")
    }

    @Test func convertsBetweenGreyAndColour() throws {
        let manifest = try ImageFixtures.manifest()
        let grey = try ImageDecoder.decode(try ImageFixtures.path("grey8.png"), channels: 3)
        let plane = manifest.files["grey8.png"]!.values.map { Float($0) / 255 }
        #expect(grey.channels == 3 && grey.pixels == plane + plane + plane)
        // RGB to grey is ITU-R 601 luma; Pillow rounds it to 8 bits, so half a level apart at most.
        let luma = try ImageDecoder.decode(try ImageFixtures.path(manifest.luma.source), channels: 1)
        #expect(luma.channels == 1 && luma.pixels.count == 35)
        let worst = zip(luma.pixels, manifest.luma.values).map { abs($0 * 255 - Float($1)) }.max()!
        #expect(worst <= 0.5 + 1e-3)
        // Alpha is dropped, never blended: RGBA to grey uses the colour samples only.
        let rgba = try ImageDecoder.decode(try ImageFixtures.path("rgba8.png"), channels: 1)
        let rgb = manifest.files["rgba8.png"]!.values.map { Float($0) / 255 }
        for i in 0..<35 {
            #expect(abs(rgba.pixels[i] - (0.299 * rgb[i] + 0.587 * rgb[35 + i] + 0.114 * rgb[70 + i])) < 1e-6)
        }
    }

    @Test func damagedFilesAreErrorsNamingTheFileAndTheProblem() throws {
        let damaged = try ImageFixtures.manifest().damaged
        #expect(damaged.count == 10)
        for (name, words) in damaged {
            let path = try ImageFixtures.path(name)
            let decoding = message { _ = try ImageDecoder.decode(path) }
            #expect(
                decoding?.hasPrefix(path + ": ") == true && decoding?.contains(words) == true,
                "\(name): \(decoding ?? "no error")")
            // The header check finds all but damage inside a complete-looking file (a bad CRC).
            let probing = message { _ = try ImageDecoder.header(of: path) }
            if name == "badcrc.png" {
                #expect(probing == nil)
            } else {
                #expect(
                    probing?.hasPrefix(path + ": ") == true && probing?.contains(words) == true,
                    "\(name): \(probing ?? "no error")")
            }
        }
        let missing = try ImageFixtures.path("missing.png")
        #expect(
            message { _ = try ImageDecoder.decode(missing) }
                == "\(missing): cannot be opened: No such file or directory")
    }

    /// scikit-learn's two sample photos (640x427 colour JPEGs): measured 0 levels from Pillow's
    /// decode on every sample (the same libjpeg-turbo settings); the bound allows one level.
    @Test(arguments: ["china.jpg", "flower.jpg"]) func decodesScikitLearnsSamplePhotosAsPillowDoes(name: String) throws
    {
        let size = try #require(try ImageFixtures.manifest().samples[name], "scikit-learn is needed for \(name)")
        let image = try ImageDecoder.decode(try ImageFixtures.path(name))
        #expect(image.channels == 3 && image.height == size.height && image.width == size.width)
        let pillow = try Data(contentsOf: URL(fileURLWithPath: try ImageFixtures.path(name + ".chw.u8")))
        #expect(pillow.count == image.pixels.count)
        var total = 0, worst = 0
        for (ours, theirs) in zip(image.pixels, pillow) {
            let d = abs(Int((ours * 255).rounded()) - Int(theirs))
            total += d
            worst = max(worst, d)
        }
        let mean = Double(total) / Double(pillow.count)
        #expect(mean <= 0.01 && worst <= 1, "\(name): mean \(mean), max \(worst) levels from Pillow")
    }
}
