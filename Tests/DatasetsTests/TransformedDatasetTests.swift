import Foundation
import TensorCore
import Testing

@testable import Datasets

/// `count` images (C, H, W) of values in [0, 1) drawn from a seed, labels i % 3.
func randomImages(count: Int, channels: Int, height: Int, width: Int, seed: UInt64 = 5) -> TensorDataset {
    let x = NDArray(shape: [count, channels, height, width], zeroed: false)
    var rng = PhiloxRNG(seed: seed)
    rng.fillUniform(x.ptr, x.count)
    let labels = (0..<count).map { Int32($0 % 3) }
    return TensorDataset(inputs: x, labels: NDArray(indices: labels, shape: [count]), classCount: 3)
}

/// Sample `i` of a batch as an image.
func sample(_ batch: Batch, _ i: Int) -> PlanarImage {
    let d = Array(batch.inputs.shape.dims.dropFirst()), n = d.reduce(1, *)
    return PlanarImage(
        channels: d[0], height: d[1], width: d[2],
        pixels: Array(UnsafeBufferPointer(start: batch.inputs.ptr + i * n, count: n)))
}

/// Whether two images hold the same bits (NaN and signed zeros included).
func sameBits(_ a: PlanarImage, _ b: PlanarImage) -> Bool {
    a.pixels.map(\.bitPattern) == b.pixels.map(\.bitPattern)
}

/// Every transform on.
let everything = ImageAugmentation(
    randomCropPadding: 2, randomResizedCrop: .init(scale: [0.5, 1], ratio: [0.75, 4.0 / 3]), horizontalFlip: 0.5,
    rotationDegrees: 15, brightness: 0.4, contrast: 0.4, randomErasing: 0.5)

@Suite("Augmentation draws from (seed, epoch, index), and TransformedDataset")
struct TransformedDatasetTests {
    @Test func theSameSampleKeyGivesTheSameBits() {
        let image = countingImage(channels: 3, height: 12, width: 10, scale: 1.0 / 1024)
        let a = everything.apply(to: image, seed: 9, epoch: 3, index: 17)
        let b = everything.apply(to: image, seed: 9, epoch: 3, index: 17)
        #expect(sameBits(a, b))
        #expect(a != image)
        for (seed, epoch, index) in [(9 as UInt64, 4, 17), (9, 3, 18), (10, 3, 17)] {
            #expect(
                everything.apply(to: image, seed: seed, epoch: epoch, index: index) != a, "\(seed) \(epoch) \(index)")
        }
    }

    @Test func noTransformLeavesTheImage() {
        let image = countingImage(channels: 3, height: 6, width: 5)
        #expect(ImageAugmentation().isIdentity && !everything.isIdentity)
        #expect(ImageAugmentation().apply(to: image, seed: 1, epoch: 0, index: 0) == image)
    }

    /// RandomCrop draws both offsets from 0...2P: each of the (2P + 1)² windows occurs.
    @Test func randomCropUsesEveryOffset() {
        let image = countingImage(channels: 1, height: 4, width: 4)
        let windows = (0..<3).flatMap { t in
            (0..<3).map { l in ImageTransforms.crop(image, padding: 1, top: t, left: l) }
        }
        var seen = Set<Int>()
        for index in 0..<300 {
            let out = ImageAugmentation(randomCropPadding: 1).apply(to: image, seed: 2, epoch: 0, index: index)
            let k = windows.firstIndex(of: out)
            #expect(k != nil)
            if let k { seen.insert(k) }
        }
        #expect(seen.count == 9)
    }

    @Test(arguments: [0.0, 0.3, 1.0])
    func flipHappensWithItsProbability(p: Double) {
        let image = countingImage(channels: 2, height: 3, width: 4), flipped = ImageTransforms.flipHorizontally(image)
        let outs = (0..<1000).map {
            ImageAugmentation(horizontalFlip: p).apply(to: image, seed: 4, epoch: 1, index: $0)
        }
        #expect(outs.allSatisfy { $0 == image || $0 == flipped })
        let share = Double(outs.filter { $0 == flipped }.count) / 1000
        #expect(abs(share - p) < 0.06, "flipped \(share)")
    }

    /// The angle is uniform in [-d, d], and the image is rotated by it.
    @Test func rotationAnglesSpanTheRange() {
        let image = countingImage(channels: 1, height: 7, width: 7)
        var angles: [Double] = []
        for index in 0..<200 {
            var draws = SampleRandomness(seed: 6, epoch: 1, index: index).stream(.rotation)
            let angle = draws.uniform(-20, 20)
            angles.append(angle)
            let out = ImageAugmentation(rotationDegrees: 20).apply(to: image, seed: 6, epoch: 1, index: index)
            #expect(out == ImageTransforms.rotate(image, degrees: angle))
        }
        #expect(angles.min()! >= -20 && angles.min()! < -16 && angles.max()! < 20 && angles.max()! > 16)
    }

    /// Brightness alone scales every pixel by one factor in [0.6, 1.4]; the factors span the range.
    @Test func brightnessFactorsSpanTheRange() {
        let image = countingImage(channels: 3, height: 2, width: 2, scale: 1.0 / 512)  // below 0.7
        var factors: [Float] = []
        for index in 0..<300 {
            let out = ImageAugmentation(brightness: 0.4).apply(to: image, seed: 8, epoch: 0, index: index)
            let f = out.pixels[0] / image.pixels[0]
            #expect(zip(out.pixels, image.pixels).allSatisfy { abs($0 - f * $1) < 1e-6 })
            factors.append(f)
        }
        #expect(factors.min()! >= 0.6 - 1e-5 && factors.min()! < 0.65 && factors.max()! <= 1.4 && factors.max()! > 1.35)
    }

    /// With both jitters, each sample takes one of the two orders, and both orders occur. The
    /// orders differ only where a pixel is clamped, as the bright pixel here often is.
    @Test func colourJitterOrderIsRandom() {
        let image = PlanarImage(channels: 1, height: 1, width: 3, pixels: [0.05, 0.5, 0.95])
        let augmentation = ImageAugmentation(brightness: 0.5, contrast: 0.5)
        var orders = Set<Bool>(), telling = 0
        for index in 0..<40 {
            var draws = SampleRandomness(seed: 1, epoch: 0, index: index).stream(.colour)
            let contrastFirst = draws.integer(below: 2) == 1
            let b = Float(draws.uniform(0.5, 1.5)), c = Float(draws.uniform(0.5, 1.5))
            let contrastThenBrightness = ImageTransforms.adjustBrightness(
                ImageTransforms.adjustContrast(image, factor: c), factor: b)
            let brightnessThenContrast = ImageTransforms.adjustContrast(
                ImageTransforms.adjustBrightness(image, factor: b), factor: c)
            let expected = contrastFirst ? contrastThenBrightness : brightnessThenContrast
            #expect(augmentation.apply(to: image, seed: 1, epoch: 0, index: index) == expected)
            orders.insert(contrastFirst)
            if contrastThenBrightness != brightnessThenContrast { telling += 1 }
        }
        #expect(orders.count == 2 && telling >= 5, "\(telling) samples where the order matters")
    }

    /// Erasing with p = 1 zeroes one rectangle, the same in every channel, of 2% to 33% of the image.
    @Test func erasingZeroesOneRectangle() {
        let image = countingImage(channels: 2, height: 16, width: 16)
        for index in 0..<50 {
            let out = ImageAugmentation(randomErasing: 1).apply(to: image, seed: 3, epoch: 0, index: index)
            let zeros = (0..<256).filter { out.pixels[$0] == 0 }
            guard !zeros.isEmpty else {
                Issue.record("sample \(index) was not erased")
                continue
            }
            #expect(zeros == (0..<256).filter { out.pixels[256 + $0] == 0 })
            let rows = Set(zeros.map { $0 / 16 }), cols = Set(zeros.map { $0 % 16 })
            #expect(zeros.count == rows.count * cols.count, "one full rectangle")
            #expect(rows.max()! - rows.min()! + 1 == rows.count && cols.max()! - cols.min()! + 1 == cols.count)
            // Rounding each side of a box of 2% to 33% (5.1 to 84.5 pixels) gives 3 to 100 pixels.
            #expect((3...100).contains(zeros.count), "\(zeros.count) of 256 pixels")
        }
    }

    /// A batch's samples do not depend on how the indices are split into batches or ranks, and
    /// equal the augmentation and then normalisation of each sample by its index.
    @Test func batchesDoNotDependOnTheirSplit() throws {
        let base = randomImages(count: 10, channels: 3, height: 8, width: 8)
        let norm = try ChannelNormalization(mean: [0.5, 0.4, 0.3], std: [0.25, 0.2, 0.3])
        func make() -> TransformedDataset {
            TransformedDataset(base, augmentation: everything, normalization: norm, seed: 11, epoch: 2)
        }
        let data = make(), whole = data.batch(ArraySlice(0..<10))
        let parts = [make().batch(ArraySlice([0, 1, 2])), make().batch(ArraySlice(3..<10))]
        let reversed = data.batch(ArraySlice((0..<10).reversed()))
        let original = base.batch(ArraySlice(0..<10))
        for i in 0..<10 {
            let mine = sample(whole, i)
            #expect(sameBits(sample(i < 3 ? parts[0] : parts[1], i < 3 ? i : i - 3), mine), "sample \(i)")
            #expect(sameBits(sample(reversed, 9 - i), mine), "sample \(i)")
            let expected = norm.apply(to: everything.apply(to: sample(original, i), seed: 11, epoch: 2, index: i))
            #expect(sameBits(mine, expected), "sample \(i)")
        }
        #expect(whole.targets.indices == original.targets.indices)
        // The base dataset's samples are left as they were.
        #expect(base.batch(ArraySlice(0..<10)).inputs.scalars == original.inputs.scalars)
        let next = TransformedDataset(base, augmentation: everything, normalization: norm, seed: 11, epoch: 3)
        #expect(next.batch(ArraySlice(0..<10)).inputs.scalars != whole.inputs.scalars)
    }

    /// Evaluation: no augmentation, so the samples are only normalised.
    @Test func withoutAugmentationSamplesAreOnlyNormalised() throws {
        let base = randomImages(count: 4, channels: 1, height: 3, width: 3)
        let norm = try ChannelNormalization(mean: [0.5], std: [0.25])
        let data = TransformedDataset(base, augmentation: nil, normalization: norm, seed: 1, epoch: 0)
        let x = data.batch(ArraySlice(0..<4)).inputs.scalars, raw = base.batch(ArraySlice(0..<4)).inputs.scalars
        #expect(x == raw.map { ($0 - 0.5) / 0.25 })
        #expect(data.count == 4 && data.inputShape == [1, 3, 3] && data.classCount == 3 && data.inputType == .float32)
        let plain = TransformedDataset(base, augmentation: nil, normalization: nil, seed: 1, epoch: 0)
        #expect(plain.batch(ArraySlice(0..<4)).inputs.scalars == raw)
    }

    @Test func augmentationReadsAndWritesSnakeCaseKeys() throws {
        let json = #"{"random_crop_padding": 4, "horizontal_flip": 0.5, "random_resized_crop": {"scale": [0.5, 1]}}"#
        let decoded = try JSONDecoder().decode(ImageAugmentation.self, from: Data(json.utf8))
        #expect(decoded.randomCropPadding == 4 && decoded.horizontalFlip == 0.5 && decoded.rotationDegrees == 0)
        #expect(decoded.randomResizedCrop == .init(scale: [0.5, 1], ratio: [0.75, 4.0 / 3]))
        let encoded = try JSONSerialization.jsonObject(with: JSONEncoder().encode(everything)) as! [String: Any]
        #expect(
            Set(encoded.keys) == [
                "random_crop_padding", "random_resized_crop", "horizontal_flip", "rotation_degrees", "brightness",
                "contrast", "random_erasing",
            ])
        let again = try JSONDecoder().decode(ImageAugmentation.self, from: JSONEncoder().encode(everything))
        #expect(again == everything)
        let off = try JSONDecoder().decode(ImageAugmentation.self, from: JSONEncoder().encode(ImageAugmentation()))
        #expect(off == ImageAugmentation())
    }

    @Test func badValuesNameTheirKey() {
        let bad = ImageAugmentation(
            randomCropPadding: -1, randomResizedCrop: .init(scale: [0.9, 0.1], ratio: [0, 1]), horizontalFlip: 1.5,
            rotationDegrees: 200, brightness: -0.1, contrast: .infinity, randomErasing: .nan)
        let problems = bad.problems(keyPath: "data.augment")
        #expect(problems.count == 8, "\(problems)")
        #expect(problems.contains("data.augment.horizontal_flip is 1.5; allowed: a probability from 0 (off) to 1"))
        for key in [
            "random_crop_padding", "random_resized_crop.scale", "random_resized_crop.ratio",
            "rotation_degrees", "brightness", "contrast", "random_erasing",
        ] {
            #expect(problems.contains { $0.hasPrefix("data.augment.\(key) is ") }, "\(key)")
        }
        #expect(everything.problems(keyPath: "data.augment").isEmpty)
    }

    @Test func samplesThatAreNotImagesAreRefused() {
        let tokens = TensorDataset(
            inputs: NDArray(indices: [1, 2, 3, 4], shape: [2, 2]), labels: NDArray(indices: [0, 1], shape: [2]),
            classCount: 2)
        let t = message { try everything.check(inputShape: tokens.inputShape, inputType: tokens.inputType) }
        #expect(
            t == "augmentation needs float32 images of shape (C, H, W), but the samples are int32 of shape (2); "
                + "augment only image data, or remove data.augment")
        let rgba = message { try everything.check(inputShape: [4, 8, 8], inputType: .float32) }
        #expect(rgba?.contains("contrast jitter needs grey (1 channel) or RGB (3 channel) images") == true)
        #expect(rgba?.contains("4 channels") == true)
        #expect(
            message { try ImageAugmentation(contrast: 0).check(inputShape: [4, 8, 8], inputType: .float32) } == nil)
        #expect(message { try everything.check(inputShape: [1, 8, 8], inputType: .float32) } == nil)
    }
}
