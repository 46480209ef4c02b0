import Foundation
import TensorCore
import Testing

@testable import Datasets

/// A training split without samples.
final class NoSamples: Dataset {
    var count: Int { 0 }
    var inputShape: Shape { [1, 2, 2] }
    var inputType: DType { .float32 }
    var classCount: Int { 2 }
    func batch(_ indices: ArraySlice<Int>) -> Batch { preconditionFailure("an empty dataset has no samples") }
}

@Suite("Per-channel normalisation: measured statistics and their use")
struct ChannelNormalizationTests {
    /// (N, 3, 5, 4) values around channel means far from 0, the case where E[x²] - E[x]² loses digits.
    static func offsetImages(count: Int) -> TensorDataset {
        let data = randomImages(count: count, channels: 3, height: 5, width: 4, seed: 21)
        let x = data.inputs.ptr
        for i in 0..<count {
            for c in 0..<3 {
                for k in 0..<20 {
                    x[(i * 3 + c) * 20 + k] = 1000 * Float(c + 1) + x[(i * 3 + c) * 20 + k] * Float(c + 1)
                }
            }
        }
        return data
    }

    /// The mean and population std of each channel, in two passes over every value in Double.
    static func naive(_ data: TensorDataset) -> (mean: [Double], std: [Double]) {
        let channels = data.inputShape[0], plane = data.inputShape.count / channels
        var mean: [Double] = [], std: [Double] = []
        for c in 0..<channels {
            var values: [Double] = []
            for i in 0..<data.count {
                for k in 0..<plane { values.append(Double(data.inputs.ptr[(i * channels + c) * plane + k])) }
            }
            let m = values.reduce(0, +) / Double(values.count)
            mean.append(m)
            std.append((values.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(values.count)).squareRoot())
        }
        return (mean, std)
    }

    @Test func measureMatchesANaiveComputation() throws {
        let data = Self.offsetImages(count: 37)
        let measured = try ChannelNormalization.measure(on: data, batchSize: 8)
        let (mean, std) = Self.naive(data)
        for c in 0..<3 {
            #expect(abs(Double(measured.mean[c]) - mean[c]) <= 1e-6 * abs(mean[c]), "mean of channel \(c)")
            #expect(abs(Double(measured.std[c]) - std[c]) <= 1e-5 * std[c], "std of channel \(c)")
        }
        // The values are uniform on [1000k, 1001k) for channel k - 1: std k / sqrt(12), roughly.
        #expect(abs(measured.std[2] - 3 / Float(12).squareRoot()) < 0.1)
    }

    /// Samples merge one by one in index order, so the batch size does not change a bit.
    @Test func measureDoesNotDependOnTheBatchSize() throws {
        let data = Self.offsetImages(count: 37)
        let reference = try ChannelNormalization.measure(on: data, batchSize: 37)
        for size in [1, 5, 8, 256] { #expect(try ChannelNormalization.measure(on: data, batchSize: size) == reference) }
    }

    /// torchvision's Normalize: (x - mean[c]) / std[c], channel by channel.
    @Test func applySubtractsAndDividesPerChannel() throws {
        let norm = try ChannelNormalization(mean: [0.5, -1], std: [0.25, 2])
        let image = PlanarImage(channels: 2, height: 1, width: 3, pixels: [0, 0.5, 1, -1, 0, 3])
        #expect(norm.apply(to: image).pixels == [-2, 0, 2, 0, 0.5, 2])
    }

    /// A constant channel measures a std of exactly 0, whatever its value and size, and is refused.
    @Test(arguments: [(6, 2, 2, Float(0.1)), (13, 5, 7, 0.7), (3, 9, 11, 1e-3)])
    func aConstantChannelIsRefused(count: Int, height: Int, width: Int, value: Float) {
        let data = randomImages(count: count, channels: 3, height: height, width: width)
        let plane = height * width
        for i in 0..<count {
            for k in 0..<plane { data.inputs.ptr[(i * 3 + 1) * plane + k] = value }
        }
        #expect(
            message { _ = try ChannelNormalization.measure(on: data, batchSize: 4) }
                == "cannot normalise channel 1: every value of it over the \(count) training samples is \(value), so "
                + "its standard deviation is 0 and dividing by it is undefined; give mean and std explicitly, "
                + "or drop the constant channel")
    }

    @Test func aNonFiniteValueNamesItsSample() {
        let data = randomImages(count: 6, channels: 2, height: 2, width: 2)
        data.inputs.ptr[(4 * 2 + 1) * 4 + 3] = .nan
        #expect(
            message { _ = try ChannelNormalization.measure(on: data) }
                == "sample 4 holds nan in channel 1 (value 3 of the channel); the data must be finite: "
                + "repair or remove that sample")
    }

    @Test func badStatisticsAreRefused() throws {
        #expect(
            message { _ = try ChannelNormalization(mean: [0, 0], std: [1, 0]) }?.hasPrefix(
                "cannot normalise channel 1: its standard deviation is 0.0") == true)
        #expect(
            message { _ = try ChannelNormalization(mean: [0, 0], std: [1]) }?.contains("2 means and 1 stds") == true)
        #expect(message { _ = try ChannelNormalization(mean: [.nan], std: [1]) } != nil)
        #expect(message { _ = try ChannelNormalization(mean: [0], std: [-1]) } != nil)
        #expect(
            message { _ = try ChannelNormalization.measure(on: NoSamples()) }?.contains("empty training split") == true)
        let tokens = TensorDataset(
            inputs: NDArray(indices: [1, 2], shape: [2, 1]), labels: NDArray(indices: [0, 1], shape: [2]), classCount: 2
        )
        #expect(message { _ = try ChannelNormalization.measure(on: tokens) }?.contains("int32 of shape (1)") == true)
    }

    /// Saved as {"mean": [...], "std": [...]} in the run; a file with a zero std is refused on reading.
    @Test func savedStatisticsRoundTripAndAreChecked() throws {
        let norm = try ChannelNormalization(mean: [0.25, 0.5], std: [0.125, 2])
        let saved = try JSONEncoder().encode(norm)
        #expect(try JSONDecoder().decode(ChannelNormalization.self, from: saved) == norm)
        let zero = Data(#"{"mean": [0.5], "std": [0]}"#.utf8)
        #expect(
            message { _ = try JSONDecoder().decode(ChannelNormalization.self, from: zero) }?.hasPrefix(
                "cannot normalise channel 0") == true)
    }
}
