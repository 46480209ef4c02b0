import Foundation
import NN

/// Writes arrays as NumPy .npy files (format 1.0): float32 as '<f4', int32 token ids as '<i8'
/// (the int64 the exported graphs read).
enum NumpyFile {
    static func write(_ array: NDArray, to path: String) throws {
        let shape = array.shape.dims
        let tuple = shape.count == 1 ? "(\(shape[0]),)" : "(\(shape.map(String.init).joined(separator: ", ")))"
        let payload: Data
        let descr: String
        if array.dtype == .int32 {
            descr = "<i8"
            payload = array.indices.map { Int64($0) }.withUnsafeBufferPointer { Data(buffer: $0) }
        } else {
            descr = "<f4"
            payload = array.scalars.withUnsafeBufferPointer { Data(buffer: $0) }
        }
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(tuple), }"
        // Magic (6) + version (2) + length (2) + header, padded to a multiple of 64 and ended by a newline.
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        data.append(contentsOf: [UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
        data.append(Data(header.utf8))
        data.append(payload)
        try data.write(to: URL(fileURLWithPath: path))
    }
}
