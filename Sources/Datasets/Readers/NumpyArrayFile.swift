/// NumPy's `.npy` format (versions 1, 2 and 3): the magic `\x93NUMPY`, a version, the header's
/// length, a Python dict literal with `descr`, `fortran_order` and `shape`, then the elements.
public enum NumpyArrayFile {
    /// Opens an array: a `.npy` file, or the entry `key` of an `.npz` archive.
    /// - Parameters:
    ///   - path: the `.npy` or `.npz` file.
    ///   - key: the array's name inside an `.npz` (as given to `np.savez`); ignored for `.npy`.
    public static func open(_ path: String, key: String? = nil) throws -> NumpyArray {
        if path.hasSuffix(".npz") {
            guard let key else {
                throw DatasetError(
                    "\(path) is an .npz archive; name the array to read in it (the key given to np.savez)")
            }
            return try NumpyArchive(path: path).array(key)
        }
        let file = try MappedFile(path: path)
        return try parse(file.bytes, owner: file, name: path)
    }

    /// Parses a whole `.npy` file held in `bytes`.
    /// - Parameters:
    ///   - bytes: the file's bytes, which stay where they are.
    ///   - owner: keeps `bytes` alive as long as the array.
    ///   - name: the file, for messages.
    public static func parse(_ bytes: UnsafeRawBufferPointer, owner: AnyObject, name: String) throws -> NumpyArray {
        let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
        guard bytes.count >= 10, Array(bytes.prefix(6)) == magic else {
            throw DatasetError("\(name) is not a .npy file (it does not start with \\x93NUMPY); write it with np.save")
        }
        let major = bytes[6]
        let (lengthBytes, headerLength): (Int, Int)
        switch major {
        case 1: (lengthBytes, headerLength) = (2, Int(bytes[8]) | Int(bytes[9]) << 8)
        case 2, 3:
            guard bytes.count >= 12 else { throw DatasetError("\(name) is truncated inside its header") }
            lengthBytes = 4
            headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
        default:
            throw DatasetError(
                "\(name) is .npy format version \(major); Tandem reads versions 1 to 3 (np.save writes them)")
        }
        let dataStart = 8 + lengthBytes + headerLength
        guard dataStart <= bytes.count else { throw DatasetError("\(name) is truncated inside its header") }
        let text = String(decoding: bytes[(8 + lengthBytes)..<dataStart], as: UTF8.self)
        var header = HeaderParser(text: text, name: name)
        let fields = try header.dictionary()
        guard case .string(let descr)? = fields["descr"] else {
            let what = fields["descr"] == nil ? "has no descr" : "holds a structured array (a record dtype)"
            throw DatasetError("\(name) \(what); save one plain numeric array per file")
        }
        guard let type = NumpyArray.ElementType(descr: descr) else {
            let big = descr.hasPrefix(">") ? " (big-endian: convert with arr.astype(arr.dtype.newbyteorder('<')))" : ""
            throw DatasetError(
                "\(name) holds dtype '\(descr)'\(big); Tandem reads float32, float64, uint8, int16, uint16, int32, "
                    + "int64 "
                    + "and bool. Convert it with arr.astype(np.float32) (or np.int64 for labels) before np.save")
        }
        guard case .bool(let fortran)? = fields["fortran_order"] else {
            throw DatasetError("\(name) has no fortran_order in its header; write it with np.save")
        }
        guard !fortran else {
            throw DatasetError(
                "\(name) is stored in Fortran (column-major) order; save it in C order with "
                    + "np.save(path, np.ascontiguousarray(arr))"
            )
        }
        guard case .shape(let shape)? = fields["shape"] else {
            throw DatasetError("\(name) has no shape in its header; write it with np.save")
        }
        let elements = shape.reduce(Optional(1)) { p, d in
            p.flatMap { $0.multipliedReportingOverflow(by: d) }.flatMap { $0.overflow ? nil : $0.partialValue }
        }
        let expected = elements.flatMap {
            let (b, overflow) = $0.multipliedReportingOverflow(by: type.byteSize)
            return overflow ? nil : b
        }
        let actual = bytes.count - dataStart
        guard let expected, expected == actual else {
            let declared = shape.map(String.init).joined(separator: "x")
            throw DatasetError(
                "\(name) declares \(type.rawValue) \(declared) = "
                    + "\(expected.map { "\($0) bytes" } ?? "more bytes than exist") "
                    + "but holds \(actual) after its header; the file is "
                    + "\(expected.map { actual < $0 ? "truncated" : "too long" } ?? "damaged"). "
                    + "Write it again with np.save"
            )
        }
        return NumpyArray(
            name: name, elementType: type, shape: shape, base: bytes.baseAddress.map { $0 + dataStart }, owner: owner)
    }
}

/// The Python dict literal of a `.npy` header.
private struct HeaderParser {
    enum Value { case string(String), bool(Bool), shape([Int]), other }
    let chars: [Character]
    let name: String
    var i = 0

    init(text: String, name: String) { (chars, self.name) = (Array(text), name) }

    func fail(_ what: String) -> DatasetError {
        DatasetError("\(name) has a damaged header (\(what) at character \(i)); write the file again with np.save")
    }

    mutating func skipSpace() { while i < chars.count, chars[i].isWhitespace { i += 1 } }

    mutating func expect(_ c: Character) throws {
        skipSpace()
        guard i < chars.count, chars[i] == c else { throw fail("expected '\(c)'") }
        i += 1
    }

    mutating func dictionary() throws -> [String: Value] {
        try expect("{")
        var out: [String: Value] = [:]
        while true {
            skipSpace()
            guard i < chars.count else { throw fail("the dict does not close") }
            if chars[i] == "}" { return out }
            let key = try string()
            try expect(":")
            out[key] = try value()
            skipSpace()
            if i < chars.count, chars[i] == "," { i += 1 }
        }
    }

    mutating func string() throws -> String {
        skipSpace()
        guard i < chars.count, chars[i] == "'" || chars[i] == "\"" else { throw fail("expected a string") }
        let quote = chars[i]
        i += 1
        let start = i
        while i < chars.count, chars[i] != quote { i += 1 }
        guard i < chars.count else { throw fail("a string does not close") }
        i += 1
        return String(chars[start..<(i - 1)])
    }

    mutating func value() throws -> Value {
        skipSpace()
        guard i < chars.count else { throw fail("a value is missing") }
        switch chars[i] {
        case "'", "\"": return .string(try string())
        case "(": return .shape(try tuple())
        case "[", "{":
            // A structured dtype's field list: skip it, balanced.
            var depth = 0
            repeat {
                if "[{(".contains(chars[i]) { depth += 1 } else if "]})".contains(chars[i]) { depth -= 1 }
                i += 1
            } while depth > 0 && i < chars.count
            return .other
        default:
            let start = i
            while i < chars.count, chars[i].isLetter { i += 1 }
            switch String(chars[start..<i]) {
            case "True": return .bool(true)
            case "False": return .bool(false)
            default: throw fail("unexpected value")
            }
        }
    }

    mutating func tuple() throws -> [Int] {
        try expect("(")
        var dims: [Int] = []
        while true {
            skipSpace()
            guard i < chars.count else { throw fail("the shape does not close") }
            if chars[i] == ")" {
                i += 1
                return dims
            }
            let start = i
            while i < chars.count, chars[i].isNumber { i += 1 }
            // Python 2 wrote long integers as 3L.
            guard let d = Int(String(chars[start..<i])) else { throw fail("a dimension is not a number") }
            if i < chars.count, chars[i] == "L" { i += 1 }
            dims.append(d)
            skipSpace()
            if i < chars.count, chars[i] == "," { i += 1 }
        }
    }
}
