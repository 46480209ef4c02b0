import Foundation
import Testing

@testable import Datasets

/// An image whose every value differs: value = 1 + c·100 + y·10 + x, or scaled into [0, 1).
func countingImage(channels: Int, height: Int, width: Int, scale: Float = 1) -> PlanarImage {
    var image = PlanarImage(zerosWithChannels: channels, height: height, width: width)
    for c in 0..<channels {
        for y in 0..<height {
            for x in 0..<width { image[c, y, x] = Float(1 + c * 100 + y * 10 + x) * scale }
        }
    }
    return image
}

/// Whether two images hold the same values within `tolerance`, relative to values above 1.
func close(_ a: PlanarImage, _ b: PlanarImage, _ tolerance: Float = 1e-5) -> Bool {
    a.channels == b.channels && a.height == b.height && a.width == b.width
        && zip(a.pixels, b.pixels).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($1)) }
}

@Suite("Image transforms against their torchvision definitions")
struct AugmentationTests {
    @Test func flipMirrorsEveryRow() {
        let image = countingImage(channels: 2, height: 3, width: 4)
        let flipped = ImageTransforms.flipHorizontally(image)
        for c in 0..<2 {
            for y in 0..<3 {
                for x in 0..<4 { #expect(flipped[c, y, x] == image[c, y, 3 - x]) }
            }
        }
        #expect(ImageTransforms.flipHorizontally(flipped) == image)
    }

    /// RandomCrop(size, padding=P) at offset (top, left): the window of the zero-padded image.
    @Test(arguments: [(1, 0, 0), (1, 1, 1), (1, 2, 0), (2, 4, 1), (2, 0, 3), (3, 6, 6), (5, 2, 9)])
    func paddedCropIsTheWindowOfThePaddedImage(padding: Int, top: Int, left: Int) {
        let image = countingImage(channels: 2, height: 4, width: 5)
        let p = padding
        var padded = PlanarImage(zerosWithChannels: 2, height: 4 + 2 * p, width: 5 + 2 * p)
        for c in 0..<2 {
            for y in 0..<4 {
                for x in 0..<5 { padded[c, y + p, x + p] = image[c, y, x] }
            }
        }
        let cropped = ImageTransforms.crop(image, padding: p, top: top, left: left)
        #expect(cropped.height == 4 && cropped.width == 5)
        for c in 0..<2 {
            for y in 0..<4 {
                for x in 0..<5 { #expect(cropped[c, y, x] == padded[c, y + top, x + left]) }
            }
        }
        if top == p && left == p { #expect(cropped == image) }
    }

    @Test func rotationByZeroIsTheIdentity() {
        let image = countingImage(channels: 3, height: 5, width: 4)
        #expect(ImageTransforms.rotate(image, degrees: 0) == image)
    }

    /// 90° counter-clockwise about the centre: output (y, x) is input (x, n-1-y), the top-right
    /// corner moving to the top-left.
    @Test(arguments: [3, 4, 5])
    func rotationByNinetyDegreesTurnsASquareCounterClockwise(size n: Int) {
        let image = countingImage(channels: 2, height: n, width: n)
        let turned = ImageTransforms.rotate(image, degrees: 90)
        var expected = image
        for c in 0..<2 {
            for y in 0..<n {
                for x in 0..<n { expected[c, y, x] = image[c, x, n - 1 - y] }
            }
        }
        #expect(close(turned, expected))
        #expect(close(ImageTransforms.rotate(image, degrees: -90), ImageTransforms.rotate(turned, degrees: 180)))
    }

    /// 180° maps each pixel to its mirror through the centre, for any height and width.
    @Test func rotationByHalfATurnReversesBothAxes() {
        let image = countingImage(channels: 1, height: 3, width: 6)
        var mirrored = image
        for y in 0..<3 {
            for x in 0..<6 { mirrored[0, y, x] = image[0, 2 - y, 5 - x] }
        }
        #expect(close(ImageTransforms.rotate(image, degrees: 180), mirrored))
    }

    /// A 2x4 image turned 90°: the columns that come from outside the image are filled with 0.
    @Test func rotationFillsWithZeros() {
        let image = countingImage(channels: 1, height: 2, width: 4)
        let turned = ImageTransforms.rotate(image, degrees: 90)
        let expected: [Float] = [0, image[0, 0, 2], image[0, 1, 2], 0, 0, image[0, 0, 1], image[0, 1, 1], 0]
        #expect(zip(turned.pixels, expected).allSatisfy { abs($0 - $1) < 1e-5 }, "\(turned.pixels)")
    }

    /// Half a pixel off the grid, the value is the mean of two neighbours (bilinear): 45° turns
    /// the centre of a 3x3 image into itself and a point at distance 1 to a diagonal mix.
    @Test func rotationInterpolatesBilinearly() {
        var image = PlanarImage(zerosWithChannels: 1, height: 3, width: 3)
        image[0, 1, 1] = 1
        image[0, 1, 2] = 0.5
        let turned = ImageTransforms.rotate(image, degrees: 45)
        #expect(abs(turned[0, 1, 1] - 1) < 1e-6)
        // Output (row 0, col 2) reads input x = cos45·1 + sin45·1 + 1 = 2.414, y = sin45 - cos45 + 1 = 1:
        // weight 1 - 0.414 on input (1, 2) and the rest outside the image.
        let expected = Float(0.5 * (1 - (2.0.squareRoot() - 1)))
        #expect(abs(turned[0, 0, 2] - expected) < 1e-5, "\(turned[0, 0, 2]) vs \(expected)")
    }

    @Test func brightnessScalesAndClamps() {
        let image = PlanarImage(channels: 1, height: 1, width: 4, pixels: [0, 0.2, 0.6, 0.8])
        #expect(ImageTransforms.adjustBrightness(image, factor: 1.5).pixels == [0, 0.2 * 1.5, 0.6 * 1.5, 1])
        #expect(ImageTransforms.adjustBrightness(image, factor: 0).pixels == [0, 0, 0, 0])
    }

    /// RGB: blend with the mean ITU-R 601 luma; grey: with the mean pixel; clamped to [0, 1].
    @Test func contrastBlendsWithTheMeanGreyLevel() {
        let rgb = PlanarImage(channels: 3, height: 1, width: 2, pixels: [1, 0, 0, 0, 0, 1])
        let mean: Float = (0.2989 + 0.114) / 2
        let half = ImageTransforms.adjustContrast(rgb, factor: 0.5)
        let expected = rgb.pixels.map { 0.5 * $0 + 0.5 * mean }
        #expect(zip(half.pixels, expected).allSatisfy { abs($0 - $1) < 1e-6 }, "\(half.pixels)")
        #expect(ImageTransforms.adjustContrast(rgb, factor: 0).pixels.allSatisfy { abs($0 - mean) < 1e-6 })
        let grey = PlanarImage(channels: 1, height: 2, width: 2, pixels: [0.1, 0.3, 0.5, 0.9])
        let strong = ImageTransforms.adjustContrast(grey, factor: 2)  // mean 0.45
        let greyExpected: [Float] = [0, 2 * 0.3 - 0.45, 2 * 0.5 - 0.45, 1]
        #expect(zip(strong.pixels, greyExpected).allSatisfy { abs($0 - $1) < 1e-6 }, "\(strong.pixels)")
    }

    @Test func erasingZeroesTheBoxInEveryChannel() {
        let image = countingImage(channels: 2, height: 4, width: 5)
        let erased = ImageTransforms.erase(image, top: 1, left: 2, height: 2, width: 3)
        for c in 0..<2 {
            for y in 0..<4 {
                for x in 0..<5 {
                    let inside = (1..<3).contains(y) && (2..<5).contains(x)
                    #expect(erased[c, y, x] == (inside ? 0 : image[c, y, x]))
                }
            }
        }
    }

    /// Bilinear with half-pixel centres, as PyTorch's interpolate(align_corners=False): a row
    /// [a, b] upsampled to 4 is [a, 0.75a + 0.25b, 0.25a + 0.75b, b].
    @Test func resizedCropUpsamplesBilinearly() {
        let image = countingImage(channels: 1, height: 4, width: 4)
        #expect(ImageTransforms.resizedCrop(image, top: 0, left: 0, height: 4, width: 4) == image)
        let one = ImageTransforms.resizedCrop(image, top: 2, left: 1, height: 1, width: 1)
        #expect(one.pixels.allSatisfy { $0 == image[0, 2, 1] })
        let box = ImageTransforms.resizedCrop(image, top: 1, left: 2, height: 2, width: 2)
        func row(_ a: Float, _ b: Float) -> [Float] { [a, 0.75 * a + 0.25 * b, 0.25 * a + 0.75 * b, b] }
        let columns = [row(image[0, 1, 2], image[0, 1, 3]), row(image[0, 2, 2], image[0, 2, 3])]
        for x in 0..<4 {
            let expected = row(columns[0][x], columns[1][x])
            for y in 0..<4 { #expect(abs(box[0, y, x] - expected[y]) < 1e-4) }
        }
    }

    /// Every box drawn lies in the image with an area and aspect ratio that round from the ranges.
    @Test func resizedCropBoxesRespectScaleAndRatio() {
        let (height, width) = (24, 32)
        let area = Double(height * width)
        var areas: [Double] = []
        for index in 0..<500 {
            var draws = SampleRandomness(seed: 7, epoch: 0, index: index).stream(.resizedCrop)
            let b = ImageAugmentation.resizedCropBox(
                height: height, width: width, scale: [0.2, 0.6], ratio: [0.5, 2], &draws)
            #expect(b.top >= 0 && b.left >= 0 && b.top + b.height <= height && b.left + b.width <= width)
            let (h, w) = (Double(b.height), Double(b.width))
            #expect((h + 0.5) * (w + 0.5) >= 0.2 * area && (h - 0.5) * (w - 0.5) <= 0.6 * area, "\(b)")
            #expect((w + 0.5) / (h - 0.5) >= 0.5 && (w - 0.5) / (h + 0.5) <= 2, "\(b)")
            areas.append(h * w / area)
        }
        #expect(areas.min()! < 0.25 && areas.max()! > 0.55)
    }

    /// When no attempt fits, the centred box with the nearest allowed ratio (torchvision's fallback).
    @Test func resizedCropFallsBackToTheCentre() {
        var draws = SampleRandomness(seed: 1, epoch: 0, index: 0).stream(.resizedCrop)
        let tall = ImageAugmentation.resizedCropBox(height: 8, width: 8, scale: [0.9, 1], ratio: [3, 4], &draws)
        #expect(tall == (2, 0, 3, 8))  // h = round(8 / 3) = 3, top = (8 - 3) / 2
        let wide = ImageAugmentation.resizedCropBox(height: 8, width: 8, scale: [0.9, 1], ratio: [0.2, 0.25], &draws)
        #expect(wide == (0, 3, 8, 2))  // w = round(8 * 0.25) = 2, left = (8 - 2) / 2
    }

    /// Erasing boxes: 2% to 33% of the area, height / width in [0.3, 3.3], sides below the image's.
    @Test func erasingBoxesRespectScaleAndRatio() {
        let (height, width) = (32, 32)
        let area = Double(height * width)
        var areas: [Double] = []
        for index in 0..<500 {
            var draws = SampleRandomness(seed: 3, epoch: 2, index: index).stream(.erasing)
            guard let b = ImageAugmentation.erasingBox(height: height, width: width, &draws) else { continue }
            #expect(b.height < height && b.width < width && b.top + b.height <= height && b.left + b.width <= width)
            let (h, w) = (Double(b.height), Double(b.width))
            #expect((h + 0.5) * (w + 0.5) >= 0.02 * area && (h - 0.5) * (w - 0.5) <= 0.33 * area, "\(b)")
            #expect((h + 0.5) / (w - 0.5) >= 0.3 && (h - 0.5) / (w + 0.5) <= 3.3, "\(b)")
            areas.append(h * w / area)
        }
        #expect(areas.count > 450 && areas.min()! < 0.05 && areas.max()! > 0.25)
    }

    @Test func pythonRoundingIsHalfToEven() {
        #expect([0.5, 1.5, 2.5, 2.6].map(ImageAugmentation.roundHalfEven) == [0, 2, 2, 3])
    }
}
