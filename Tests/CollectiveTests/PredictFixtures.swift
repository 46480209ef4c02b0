import Checkpoint
import Foundation

/// Files for `tandem predict`'s tests: PNG images, NumPy arrays, an image folder, a table and a
/// text, with the small MLP forward pass that checks the command's numbers.
enum PredictFixtures {
    /// Folders to remove when the test process exits: the suite's runs outlive each test.
    nonisolated(unsafe) static var leftovers: [String] = []

    /// Removes `path` when the test process exits.
    static func removeAtExit(_ path: String) {
        if leftovers.isEmpty {
            atexit { for path in PredictFixtures.leftovers { try? FileManager.default.removeItem(atPath: path) } }
        }
        leftovers.append(path)
    }

    /// An 8-bit grey (1 channel) or RGB (3, interleaved) PNG of `pixels`, rows top to bottom, its
    /// image data in stored (uncompressed) deflate blocks, which every PNG decoder reads.
    static func png(_ pixels: [UInt8], width: Int, height: Int, channels: Int = 1) -> [UInt8] {
        var raw: [UInt8] = []
        let stride = width * channels
        for y in 0..<height { raw += [0] + pixels[(y * stride)..<((y + 1) * stride)] }
        var zlib: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let n = min(65535, raw.count - offset), last: UInt8 = offset + n == raw.count ? 1 : 0
            zlib += [last, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            zlib += raw[offset..<(offset + n)]
            offset += n
        } while offset < raw.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in raw { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        zlib += bigEndian(b << 16 | a)
        let header = bigEndian(UInt32(width)) + bigEndian(UInt32(height)) + [8, channels == 1 ? 0 : 2, 0, 0, 0]
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header) + chunk("IDAT", zlib)
            + chunk("IEND", [])
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in body {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return bigEndian(UInt32(data.count)) + body + bigEndian(~crc)
    }

    static func bigEndian(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
    }

    /// The header of a `.npy` file (format 1.0) of element type `descr` and `shape`.
    static func npyHeader(_ descr: String, shape: [Int]) -> Data {
        let dims = shape.count == 1 ? "\(shape[0])," : shape.map(String.init).joined(separator: ", ")
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(dims)), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        let length = [UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
        return Data([0x93] + Array("NUMPY".utf8) + [1, 0] + length) + Data(header.utf8)
    }

    /// A float32 `.npy` file of `values` with `shape`.
    static func npy(_ values: [Float], shape: [Int]) -> Data {
        var data = npyHeader("<f4", shape: shape)
        values.withUnsafeBytes { data += Data($0) }
        return data
    }

    /// An int32 `.npy` file of `values` with `shape`.
    static func npy(ids values: [Int32], shape: [Int]) -> Data {
        var data = npyHeader("<i4", shape: shape)
        values.withUnsafeBytes { data += Data($0) }
        return data
    }

    /// The classes of the image folder: a bright top half, a bright left half, a bright centre.
    static let classes = ["centre", "left", "top"]

    /// An 8x8 image of class `label`, with a little deterministic noise from `seed`.
    static func image(_ label: Int, seed: Int) -> [UInt8] {
        var state = UInt32(truncatingIfNeeded: seed &* 2_654_435_761 &+ 12345)
        return (0..<64).map { i in
            let (y, x) = (i / 8, i % 8)
            let bright =
                label == 2 ? y < 4 : label == 1 ? x < 4 : (2..<6).contains(y) && (2..<6).contains(x)
            state = state &* 1_664_525 &+ 1_013_904_223
            let noise = Int(state >> 27)  // 0...31
            return UInt8(bright ? 200 + noise : 20 + noise)
        }
    }

    /// DIR/train/<class>/ with 16 images per class and DIR/test/<class>/ with 4.
    static func imageFolder(_ directory: String) throws {
        for (split, count) in [("train", 16), ("test", 4)] {
            for (label, name) in classes.enumerated() {
                let folder = "\(directory)/\(split)/\(name)"
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                for i in 0..<count {
                    let seed = (split == "train" ? 0 : 1000) + label * 100 + i
                    try Data(png(image(label, seed: seed), width: 8, height: 8))
                        .write(to: URL(fileURLWithPath: "\(folder)/\(i).png"))
                }
            }
        }
    }

    /// A table whose target `y` is 2·a − b, plus 1 for colour "red", with a categorical column.
    static func table(rows: Int, seed: Int, withTarget: Bool = true, columns: [String] = ["a", "b", "colour"])
        -> String
    {
        var state = UInt32(seed)
        func next() -> Double {
            state = state &* 1_664_525 &+ 1_013_904_223
            return Double(state >> 8) / Double(1 << 24)
        }
        var lines = [(columns + (withTarget ? ["y"] : [])).joined(separator: ",")]
        for _ in 0..<rows {
            let a = next() * 4 - 2, b = next() * 2, colour = ["red", "green", "blue"][Int(next() * 3) % 3]
            let y = 2 * a - b + (colour == "red" ? 1 : 0)
            let cells = ["a": String(a), "b": String(b), "colour": colour]
            lines.append((columns.map { cells[$0]! } + (withTarget ? [String(y)] : [])).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The weights of a run's model.safetensors.
    static func weights(_ run: String) throws -> [String: (shape: [Int], values: [Float])] {
        let (tensors, _) = try SafeTensors.decode(
            Data(contentsOf: URL(fileURLWithPath: run + "/model.safetensors")), name: run)
        return tensors.mapValues { ($0.shape.dims, $0.scalars) }
    }

    /// A one-hidden-layer ReLU MLP's outputs, its layers found by their shapes (so the check does
    /// not depend on the tensors' names): W1 (hidden, inputs), W2 (outputs, hidden) and their biases.
    static func mlp(_ x: [Float], weights: [String: (shape: [Int], values: [Float])], hidden: Int) -> [Double] {
        let w1 = weights.values.first { $0.shape == [hidden, x.count] }!.values
        let b1 = weights.values.first { $0.shape == [hidden] }!.values
        let w2 = weights.values.first { $0.shape.count == 2 && $0.shape[1] == hidden }!
        let outputs = w2.shape[0]
        let b2 = weights.values.first { $0.shape == [outputs] }!.values
        let h = (0..<hidden).map { j in
            max(0, (0..<x.count).reduce(Double(b1[j])) { $0 + Double(w1[j * x.count + $1]) * Double(x[$1]) })
        }
        return (0..<outputs).map { k in
            (0..<hidden).reduce(Double(b2[k])) { $0 + Double(w2.values[k * hidden + $1]) * h[$1] }
        }
    }

    static func softmax(_ z: [Double]) -> [Double] {
        let top = z.max()!, e = z.map { Foundation.exp($0 - top) }, sum = e.reduce(0, +)
        return e.map { $0 / sum }
    }
}
