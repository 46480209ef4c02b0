import Checkpoint
import Foundation
import TensorCore
import Testing

@Suite("The safetensors format")
struct SafeTensorsTests {
    static func error(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch { return "\(error)" }
    }

    @Test func roundTripAndLayout() throws {
        let a = NDArray([1, 2, 3, 4, 5, 6], shape: [2, 3]), b = NDArray(indices: [7, -8], shape: [2])
        let data = try SafeTensors.encode([("layer.weight", a), ("ids", b)], metadata: ["step": "12"])
        // 8-byte little-endian header length, JSON header padded to 8 bytes, then the data.
        let bytes = [UInt8](data)
        let length = (0..<8).reduce(0) { $0 | Int(bytes[$1]) << (8 * $1) }
        #expect(length % 8 == 0 && bytes.count == 8 + length + 24 + 8)
        let header = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + length)])) as! [String: Any]
        #expect((header["layer.weight"] as! [String: Any])["dtype"] as! String == "F32")
        #expect((header["ids"] as! [String: Any])["data_offsets"] as! [Int] == [24, 32])
        let (tensors, metadata) = try SafeTensors.decode(data, name: "x")
        #expect(tensors["layer.weight"]!.scalars == a.scalars && tensors["layer.weight"]!.shape == [2, 3])
        #expect(tensors["ids"]!.int32Pointer[1] == -8 && metadata == ["step": "12"])
    }

    @Test func damagedFilesAreClearErrors() throws {
        let data = try SafeTensors.encode([("w", NDArray([1, 2, 3, 4], shape: [4]))])
        #expect(
            Self.error { _ = try SafeTensors.decode(data.prefix(5), name: "tiny") }?.contains("tiny is truncated")
                == true)
        #expect(
            Self.error { _ = try SafeTensors.decode(data.prefix(data.count - 4), name: "cut") }?.contains(
                "ends first (truncated)") == true)
        var garbage = data
        garbage[9] = 0x7b ^ 0xff
        #expect(Self.error { _ = try SafeTensors.decode(garbage, name: "bad") }?.contains("not a JSON object") == true)
        #expect(
            Self.error { _ = try SafeTensors.decode(Data(repeating: 0xff, count: 64), name: "noise") }?.contains(
                "not a safetensors file") == true)
    }
}
