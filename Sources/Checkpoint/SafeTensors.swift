import Foundation
import TensorCore

/// A checkpoint file that cannot be used, saying what is wrong.
public struct CheckpointError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON
/// header mapping each name to dtype, shape and byte range, then the raw little-endian data.
/// Python's `safetensors` and PyTorch read these files directly.
public enum SafeTensors {
    static let dtypeNames: [DType: String] = [
        .float32: "F32", .float16: "F16", .bfloat16: "BF16", .int32: "I32", .int8: "I8", .uint8: "U8",
        .int64: "I64",
    ]

    /// The file's bytes for `tensors` (written in the order given) and string metadata.
    public static func encode(_ tensors: [(String, NDArray)], metadata: [String: String] = [:]) throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for (name, a) in tensors {
            guard let dtype = dtypeNames[a.dtype] else {
                throw CheckpointError("\(name): dtype \(a.dtype) has no safetensors name")
            }
            let bytes = a.count * a.dtype.byteSize
            header[name] = ["dtype": dtype, "shape": a.shape.dims, "data_offsets": [offset, offset + bytes]]
            offset += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        var out = Data()
        var length = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
        out.append(json)
        for (_, a) in tensors { out.append(Data(bytes: a.storage.raw, count: a.count * a.dtype.byteSize)) }
        return out
    }

    /// The named arrays and metadata of a safetensors file's bytes.
    /// - Parameters:
    ///   - data: the whole file.
    ///   - name: the file, for error messages.
    public static func decode(_ data: Data, name: String) throws -> (
        tensors: [String: NDArray], metadata: [String: String]
    ) {
        let bytes = [UInt8](data)
        guard bytes.count >= 8 else {
            throw CheckpointError("\(name) is truncated: \(bytes.count) bytes, no safetensors header")
        }
        let length = (0..<8).reduce(0) { $0 | Int(bytes[$1]) << (8 * $1) }
        guard length > 0, length <= bytes.count - 8 else {
            throw CheckpointError(
                "\(name) is not a safetensors file or is truncated (header of \(length) bytes in a file of \(bytes.count))"
            )
        }
        guard let header = try? JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + length)])) as? [String: Any]
        else {
            throw CheckpointError("\(name) has a header that is not a JSON object; the file is damaged")
        }
        let base = 8 + length
        var tensors: [String: NDArray] = [:], metadata: [String: String] = [:]
        for (key, value) in header {
            if key == "__metadata__" { metadata = value as? [String: String] ?? [:]; continue }
            guard let entry = value as? [String: Any], let dtypeName = entry["dtype"] as? String,
                let dtype = dtypeNames.first(where: { $0.value == dtypeName })?.key,
                let shape = entry["shape"] as? [Int], let range = entry["data_offsets"] as? [Int], range.count == 2
            else {
                throw CheckpointError("\(name): entry \(key) is malformed or has an unsupported dtype")
            }
            // Shapes and offsets come from the file: check them without trapping on overflow.
            let available = bytes.count - base
            guard shape.allSatisfy({ $0 >= 0 }), range[0] >= 0, range[1] >= range[0],
                let expected = shape.reduce(
                    Optional(dtype.byteSize),
                    { p, d in
                        p.flatMap { $0.multipliedReportingOverflow(by: d) }
                            .flatMap { $0.overflow ? nil : $0.partialValue }
                    })
            else {
                throw CheckpointError(
                    "\(name): tensor \(key) has shape \(shape) and data_offsets \(range), "
                        + "which cannot describe a tensor (a negative or overflowing size); the file is damaged")
            }
            guard range[1] - range[0] == expected, range[1] <= available else {
                throw CheckpointError(
                    "\(name): tensor \(key) of shape \(shape) needs \(expected) bytes at \(range[0]) but the file "
                        + "\(range[1] > available ? "ends first (truncated)" : "declares \(range[1] - range[0])")")
            }
            let a = NDArray(shape: Shape(shape), dtype: dtype, zeroed: false)
            bytes.withUnsafeBytes {
                a.storage.raw.copyMemory(from: $0.baseAddress! + base + range[0], byteCount: expected)
            }
            tensors[key] = a
        }
        return (tensors, metadata)
    }
}
