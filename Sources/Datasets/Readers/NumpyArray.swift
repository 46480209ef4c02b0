/// One NumPy array read from a `.npy` file or an `.npz` entry, left where it lies (in a
/// mapped file or a decompressed buffer) and converted only when elements are read.
public struct NumpyArray: @unchecked Sendable {
    /// The element types Tandem reads, by their NumPy names.
    public enum ElementType: String, Sendable, CaseIterable {
        case float32, float64, uint8, int16, uint16, int32, int64, bool

        /// Bytes per element.
        public var byteSize: Int {
            switch self {
            case .uint8, .bool: return 1
            case .int16, .uint16: return 2
            case .float32, .int32: return 4
            case .float64, .int64: return 8
            }
        }

        public var isFloat: Bool { self == .float32 || self == .float64 }

        /// The type of a little-endian `descr` ('<f4', '|u1', ...), or nil if unsupported.
        init?(descr: String) {
            guard let order = descr.first, "<|=".contains(order) else { return nil }
            let table: [String: ElementType] = [
                "f4": .float32, "f8": .float64, "u1": .uint8, "i2": .int16, "u2": .uint16, "i4": .int32,
                "i8": .int64, "b1": .bool,
            ]
            guard let type = table[String(descr.dropFirst())] else { return nil }
            // One-byte types carry '|' ("not applicable"); wider ones must say little-endian.
            if type.byteSize > 1 && order == "|" { return nil }
            self = type
        }
    }

    /// The file (and entry) it came from, for messages.
    public let name: String
    public let elementType: ElementType
    /// Dimensions in C order.
    public let shape: [Int]
    /// The first element; valid for `count` elements while `owner` lives.
    let base: UnsafeRawPointer?
    /// Keeps the memory of `base` alive (a `MappedFile` or a buffer).
    let owner: AnyObject

    /// Elements in the array.
    public var count: Int { shape.reduce(1, *) }
    /// Elements per row (all dimensions but the first).
    public var rowCount: Int { shape.dropFirst().reduce(1, *) }

    /// Element `i` (in C order) as a Double.
    @inline(__always)
    public func double(at i: Int) -> Double {
        let p = base! + i * elementType.byteSize
        // Unaligned loads: an .npz entry starts wherever the zip put it.
        switch elementType {
        case .float32: return Double(p.loadUnaligned(as: Float.self))
        case .float64: return p.loadUnaligned(as: Double.self)
        case .uint8: return Double(p.load(as: UInt8.self))
        case .bool: return p.load(as: UInt8.self) == 0 ? 0 : 1
        case .int16: return Double(Int16(littleEndian: p.loadUnaligned(as: Int16.self)))
        case .uint16: return Double(UInt16(littleEndian: p.loadUnaligned(as: UInt16.self)))
        case .int32: return Double(Int32(littleEndian: p.loadUnaligned(as: Int32.self)))
        case .int64: return Double(Int64(littleEndian: p.loadUnaligned(as: Int64.self)))
        }
    }

    /// Element `i` of an integer or bool array as an Int (exact, unlike `double(at:)` for int64).
    @inline(__always)
    public func integer(at i: Int) -> Int {
        let p = base! + i * elementType.byteSize
        switch elementType {
        case .int64: return Int(Int64(littleEndian: p.loadUnaligned(as: Int64.self)))
        case .int32: return Int(Int32(littleEndian: p.loadUnaligned(as: Int32.self)))
        default: return Int(double(at: i))
        }
    }

    /// Converts elements `range` to float32 at `out`.
    public func convert(_ range: Range<Int>, to out: UnsafeMutablePointer<Float>) {
        if elementType == .float32 {
            UnsafeMutableRawPointer(out).copyMemory(from: base! + range.lowerBound * 4, byteCount: range.count * 4)
            return
        }
        for (k, i) in range.enumerated() { out[k] = Float(double(at: i)) }
    }

    /// Converts elements `range` (of an integer array whose values fit) to int32 at `out`.
    public func convert(_ range: Range<Int>, to out: UnsafeMutablePointer<Int32>) {
        for (k, i) in range.enumerated() { out[k] = Int32(truncatingIfNeeded: integer(at: i)) }
    }
}
