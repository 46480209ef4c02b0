import Foundation
import Testing
@testable import Training

@Suite("TensorBoard event files")
struct TensorBoardWriterTests {
    @Test func crc32cMatchesItsCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)  // the standard check value of CRC-32C
        #expect(CRC32C.checksum([]) == 0)
    }

    /// Splits a TFRecord file into its records, checking both masked CRCs of each.
    static func records(_ bytes: [UInt8]) -> [[UInt8]] {
        var out: [[UInt8]] = [], at = 0
        func u32(_ i: Int) -> UInt32 { bytes[i..<(i + 4)].reversed().reduce(0) { $0 << 8 | UInt32($1) } }
        while at < bytes.count {
            let lengthBytes = Array(bytes[at..<(at + 8)])
            let length = Int(lengthBytes.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
            #expect(u32(at + 8) == CRC32C.masked(lengthBytes))
            let data = Array(bytes[(at + 12)..<(at + 12 + length)])
            #expect(u32(at + 12 + length) == CRC32C.masked(data))
            out.append(data)
            at += 16 + length
        }
        return out
    }

    @Test func scalarsOfAMetricsLineAreFramedEvents() throws {
        let dir = NSTemporaryDirectory() + "tandem-tb-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let writer = try TensorBoardWriter(directory: dir)
        writer.scalars(fromMetricsLine: [
            "step": 40, "epoch": 1, "loss": 0.25, "lr": 0.01, "samples_per_s": 1200, "grad_norm": Double.nan,
        ])
        writer.scalars(fromMetricsLine: [
            "split": "validation", "step": 40, "epoch": 1, "samples": 100, "accuracy": 0.875,
        ])
        let events = try Self.records(Array(Data(contentsOf: URL(fileURLWithPath: writer.path)))).map {
            try Tensorboard_Event(serializedBytes: $0)
        }
        #expect(events.count == 3 && events[0].fileVersion == "brain.Event:2")
        let train = events[1].summary.value.map { ($0.tag, $0.simpleValue) }
        // NaN left out.
        #expect(events[1].step == 40 && train.map(\.0) == ["train/loss", "train/lr", "train/samples_per_s"])
        #expect(train.map(\.1) == [0.25, 0.01, 1200])
        #expect(
            events[2].summary.value.map(\.tag) == ["validation/accuracy"]
                && events[2].summary.value[0].simpleValue == 0.875)
    }

    @Test func histogramsAndImagesAreEvents() throws {
        let dir = NSTemporaryDirectory() + "tandem-tb-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let writer = try TensorBoardWriter(directory: dir)
        writer.histogram(tag: "weights/w", values: [0, 1, 1, 2, 10], step: 3, buckets: 5)
        writer.image(tag: "images/samples", png: [0x89, 0x50], width: 12, height: 6, channels: 1, step: 3)
        writer.text(tag: "samples/text", "to be", step: 4)
        let events = try Self.records(Array(Data(contentsOf: URL(fileURLWithPath: writer.path)))).map {
            try Tensorboard_Event(serializedBytes: $0)
        }
        let h = events[1].summary.value[0].histo
        #expect(
            events[1].summary.value[0].tag == "weights/w" && h.num == 5 && h.min == 0 && h.max == 10 && h.sum == 14
                && h.sumSquares == 106)
        #expect(h.bucketLimit == [2, 4, 6, 8, 10] && h.bucket == [3, 1, 0, 0, 1])
        let image = events[2].summary.value[0].image
        #expect(
            image.width == 12 && image.height == 6 && image.colorspace == 1
                && image.encodedImageString == Data([0x89, 0x50]))
        let text = events[3].summary.value[0]
        #expect(
            text.metadata.pluginData.pluginName == "text" && text.tensor.dtype == 7
                && text.tensor.stringVal == [Data("to be".utf8)])
        #expect(text.tensor.tensorShape.dim.map(\.size) == [1] && events[3].step == 4)
    }
}
