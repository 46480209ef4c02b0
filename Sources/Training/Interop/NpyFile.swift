import Foundation
import TensorCore

/// NumPy's `.npy` format (version 1.0), for arrays another framework reads with `numpy.load`.
public enum NpyFile {
    /// The file's bytes for `array`: a float32 or int32 array, C order.
    public static func encode(_ array: NDArray) throws -> Data {
        let descr: String
        switch array.dtype {
        case .float32: descr = "<f4"
        case .int32: descr = "<i4"
        case .int64: descr = "<i8"
        default: throw TrainingError("an .npy file of \(array.dtype) is not written; convert it to float32")
        }
        let dims = array.shape.dims
        let shape = dims.count == 1 ? "(\(dims[0]),)" : "(" + dims.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }"
        // Magic, version, length: 10 bytes; the header ends in a newline and pads the whole to 64 bytes.
        let padding = (64 - (10 + header.utf8.count + 1) % 64) % 64
        header += String(repeating: " ", count: padding) + "\n"
        var out = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(header.utf8.count)
        out.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        out.append(Data(header.utf8))
        out.append(Data(bytes: array.storage.raw, count: array.count * array.dtype.byteSize))
        return out
    }
}
