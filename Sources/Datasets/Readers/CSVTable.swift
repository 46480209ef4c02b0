import Foundation

/// A CSV file with a header row, parsed as RFC 4180: comma-separated fields, records ending
/// in LF or CRLF, fields in double quotes may hold commas, line breaks and doubled quotes.
public struct CSVTable: Sendable {
    /// The file, for messages.
    public let name: String
    /// The header's column names.
    public let columns: [String]
    /// The data rows, each with one field per column.
    public let rows: [[String]]
    /// The line in the file where each row starts (the header is line 1).
    public let lines: [Int]

    /// Reads and parses the file at `path`.
    public init(path: String) throws {
        let file = try MappedFile(path: path)
        try self.init(file.bytes, name: path)
    }

    /// Parses CSV text.
    /// - Parameters:
    ///   - bytes: UTF-8 text (a leading byte-order mark is skipped).
    ///   - name: the file, for messages.
    public init(_ bytes: UnsafeRawBufferPointer, name: String) throws {
        self.name = name
        var records: [[String]] = [], starts: [Int] = []
        var field: [UInt8] = [], record: [String] = []
        var line = 1, recordLine = 1, i = 0
        let b = bytes, n = bytes.count
        if n >= 3, b[0] == 0xEF, b[1] == 0xBB, b[2] == 0xBF { i = 3 }
        var quoted = false, wasQuoted = false, quoteLine = 0
        func endField() {
            record.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            wasQuoted = false
        }
        func endRecord() {
            endField()
            // A blank line (one empty unquoted field) is not a record.
            if !(record.count == 1 && record[0].isEmpty) {
                records.append(record)
                starts.append(recordLine)
            }
            record.removeAll(keepingCapacity: true)
        }
        while i < n {
            let c = b[i]
            if quoted {
                if c == UInt8(ascii: "\"") {
                    if i + 1 < n, b[i + 1] == UInt8(ascii: "\"") {
                        field.append(c)
                        i += 1
                    } else {
                        quoted = false
                        wasQuoted = true
                    }
                } else {
                    if c == UInt8(ascii: "\n") { line += 1 }
                    field.append(c)
                }
            } else {
                switch c {
                case UInt8(ascii: ","): endField()
                case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                    if c == UInt8(ascii: "\r"), i + 1 < n, b[i + 1] == UInt8(ascii: "\n") { i += 1 }
                    endRecord()
                    line += 1
                    recordLine = line
                case UInt8(ascii: "\"") where field.isEmpty && !wasQuoted:
                    quoted = true
                    quoteLine = line
                default:
                    if wasQuoted {
                        throw DatasetError(
                            "\(name) line \(line): text after a closing quote; inside a quoted field write a quote "
                                + "as two quotes (\"\")")
                    }
                    field.append(c)
                }
            }
            i += 1
        }
        guard !quoted else {
            throw DatasetError(
                "\(name) line \(quoteLine): a quoted field never closes; add the missing \" (a quote inside a "
                    + "quoted field is written \"\")")
        }
        if !field.isEmpty || !record.isEmpty || wasQuoted { endRecord() }
        guard let header = records.first else {
            throw DatasetError("\(name) is empty; a CSV table needs a header row naming its columns, then data rows")
        }
        let names = header.map { $0.trimmingCharacters(in: .whitespaces) }
        if let empty = names.firstIndex(of: "") {
            throw DatasetError("\(name) has a column without a name (column \(empty + 1) of the header); name it")
        }
        var seen = Set<String>()
        if let twice = names.first(where: { !seen.insert($0).inserted }) {
            throw DatasetError("\(name) names the column '\(twice)' twice in its header; column names must differ")
        }
        for (k, r) in records.enumerated().dropFirst() where r.count != names.count {
            throw DatasetError(
                "\(name) line \(starts[k]) has \(r.count) fields but the header has \(names.count) columns; "
                    + "every row needs one field per column (quote fields that contain commas)")
        }
        guard records.count > 1 else { throw DatasetError("\(name) has a header but no data rows") }
        columns = names
        rows = Array(records.dropFirst())
        lines = Array(starts.dropFirst())
    }

    /// The index of the column `column`, or an error listing the columns there are.
    /// - Parameters:
    ///   - column: the column's name in the header.
    ///   - role: what the column is for, for the message ("target", "ignored").
    public func index(of column: String, role: String = "target") throws -> Int {
        guard let k = columns.firstIndex(of: column) else {
            throw DatasetError(
                "\(name) has no \(role) column '\(column)'; its columns are "
                    + columns.map { "'\($0)'" }.joined(separator: ", "))
        }
        return k
    }
}
