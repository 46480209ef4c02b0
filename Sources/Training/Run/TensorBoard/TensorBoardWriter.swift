import Foundation
import SwiftProtobuf

/// Rank 0's TensorBoard event file (scalars, histograms, images and text): TFRecord framing (length, masked CRC-32C of the length,
/// the record, masked CRC-32C of the record) around `Event` protocol buffers, as TensorFlow's
/// summary writer makes them, so `tensorboard --logdir RUN_DIR` shows the run.
final class TensorBoardWriter {
    let path: String
    private let handle: FileHandle
    private var failed = false

    /// Creates `events.out.tfevents.<seconds>.<host>` in `directory` and writes the version event.
    init(directory: String) throws {
        let host = ProcessInfo.processInfo.hostName.isEmpty ? "localhost" : ProcessInfo.processInfo.hostName
        path = directory + "/events.out.tfevents.\(Int(Date().timeIntervalSince1970)).\(host)"
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else {
            throw TrainingError(
                "cannot create the TensorBoard file \(path); choose a writable --run-dir or set logging.tensorboard: false"
            )
        }
        self.handle = handle
        var event = Tensorboard_Event()
        event.wallTime = Date().timeIntervalSince1970
        event.fileVersion = "brain.Event:2"
        write(event)
    }

    /// One scalar event per entry of `values`, all at `step`.
    func scalars(_ values: [(tag: String, value: Double)], step: Int) {
        summary(
            values.map { tag, value in
                var v = Tensorboard_Summary.Value()
                v.tag = tag
                v.simpleValue = Float(value)
                return v
            }, step: step)
    }

    /// An image summary of PNG bytes (the sample grids of generative models).
    func image(tag: String, png: [UInt8], width: Int, height: Int, channels: Int, step: Int) {
        var image = Tensorboard_Summary.Image()
        (image.width, image.height, image.colorspace) = (Int32(width), Int32(height), Int32(channels))
        image.encodedImageString = Data(png)
        var value = Tensorboard_Summary.Value()
        value.tag = tag
        value.image = image
        summary([value], step: step)
    }

    /// A text summary (TensorBoard's text plugin: a string tensor), such as a language model's sample.
    func text(tag: String, _ text: String, step: Int) {
        var tensor = Tensorboard_TensorProto()
        tensor.dtype = 7  // DT_STRING
        tensor.tensorShape.dim = [Tensorboard_TensorShapeProto.Dim.with { $0.size = 1 }]
        tensor.stringVal = [Data(text.utf8)]
        var value = Tensorboard_Summary.Value()
        value.tag = tag
        value.metadata.pluginData.pluginName = "text"
        value.tensor = tensor
        summary([value], step: step)
    }

    /// A histogram of `values` in `buckets` equal-width buckets between their minimum and maximum.
    func histogram(tag: String, values: [Float], step: Int, buckets: Int = 30) {
        guard let lo = values.min(), let hi = values.max() else { return }
        var h = HistogramProto()
        (h.min, h.max, h.num) = (Double(lo), Double(hi), Double(values.count))
        h.sum = values.reduce(0.0) { $0 + Double($1) }
        h.sumSquares = values.reduce(0.0) { $0 + Double($1) * Double($1) }
        let width = max(Double(hi - lo), 1e-12) / Double(buckets)
        h.bucketLimit = (1...buckets).map { Double(lo) + width * Double($0) }
        var counts = [Double](repeating: 0, count: buckets)
        for v in values { counts[min(buckets - 1, Int((Double(v) - Double(lo)) / width))] += 1 }
        h.bucket = counts
        var value = Tensorboard_Summary.Value()
        value.tag = tag
        value.histo = h
        summary([value], step: step)
    }

    typealias HistogramProto = Tensorboard_HistogramProto

    private func summary(_ values: [Tensorboard_Summary.Value], step: Int) {
        var event = Tensorboard_Event()
        event.wallTime = Date().timeIntervalSince1970
        event.step = Int64(step)
        event.summary.value = values
        write(event)
    }

    /// The scalars of a metrics.jsonl object: every finite number but the step and epoch,
    /// tagged `train/NAME` for step lines and `SPLIT/NAME` for evaluations.
    func scalars(fromMetricsLine line: [String: Any]) {
        guard let step = line["step"] as? Int else { return }
        let prefix = (line["split"] as? String) ?? "train"
        let values = line.compactMap { key, value -> (tag: String, value: Double)? in
            guard !["step", "epoch", "samples"].contains(key),
                let number = value as? Double ?? (value as? Int).map(Double.init),
                number.isFinite
            else { return nil }
            return ("\(prefix)/\(key)", number)
        }.sorted { $0.tag < $1.tag }
        if !values.isEmpty { scalars(values, step: step) }
    }

    private func write(_ event: Tensorboard_Event) {
        guard !failed, let data = try? event.serializedBytes() as [UInt8] else { return }
        let length = withUnsafeBytes(of: UInt64(data.count).littleEndian) { Array($0) }
        let record = length + Self.littleEndian(CRC32C.masked(length)) + data + Self.littleEndian(CRC32C.masked(data))
        do {
            try handle.write(contentsOf: Data(record))
        } catch {
            failed = true  // a full disk must not stop training; metrics.jsonl reports the same numbers
            FileHandle.standardError.write(
                Data("tandem: cannot write \(path): \(error); TensorBoard logging stops, training goes on\n".utf8))
        }
    }

    static func littleEndian(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
}

/// CRC-32C (Castagnoli), the checksum of TFRecord framing, and its masked form.
enum CRC32C {
    static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0x82F6_3B78 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    /// TFRecord's mask: rotate right by 15 and add a constant, so a CRC of data that holds CRCs stays strong.
    static func masked(_ bytes: [UInt8]) -> UInt32 {
        let c = checksum(bytes)
        return ((c >> 15) | (c << 17)) &+ 0xA282_EAD8
    }
}
