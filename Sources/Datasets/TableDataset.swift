import Foundation
import TensorCore

/// Rows of a CSV table as samples: numeric columns standardised, string columns one-hot
/// encoded, and a target column of classes or one or more columns of values to regress.
///
/// The encoding comes from a `TableStatistics` measured on the training split, so other splits
/// are encoded the same way; a category a later split has that training did not see becomes
/// an all-zero one-hot group.
public final class TableDataset: Dataset, @unchecked Sendable {
    /// What a missing cell (empty, or `NA`) means.
    public enum MissingValues: String, NamedChoice {
        /// An error naming the file, line and column.
        case error
        /// A numeric feature takes the training mean; a categorical one no category (all zero).
        /// A missing target is still an error.
        case mean
        /// Rows with any missing feature or target are left out (counted in `droppedRows`).
        case drop
    }

    public let statistics: TableStatistics
    /// (N, F) float32 encoded features.
    public let inputs: NDArray
    /// (N) int32 class ids, or (N, K) float32 values.
    public let targets: NDArray
    /// Rows left out for a missing value (with `MissingValues.drop`).
    public let droppedRows: Int

    /// The training split: measures the statistics on `rows` of `table`, then encodes them.
    /// - Parameters:
    ///   - table: the training table.
    ///   - target: the target column (classification) or columns (regression).
    ///   - task: classification or regression.
    ///   - missing: what a missing cell means.
    ///   - standardize: standardise numeric features with the training mean and deviation.
    ///   - ignore: columns to leave out (ids, free text).
    ///   - rows: the rows to use (all when nil).
    public convenience init(
        table: CSVTable, target: [String], task: DatasetTask, missing: MissingValues = .error,
        standardize: Bool = true, ignore: [String] = [], rows: Range<Int>? = nil
    ) throws {
        let statistics = try TableStatistics.measure(
            table, targets: target, task: task, ignore: ignore, missing: missing, standardize: standardize, rows: rows)
        try self.init(table: table, statistics: statistics, missing: missing, rows: rows)
    }

    /// Another split (validation, test, or data to predict), encoded with the training split's statistics.
    /// - Parameters:
    ///   - table: a table with the same columns as the training one (any order; extra columns are ignored).
    ///   - statistics: the training split's.
    ///   - missing: what a missing cell means.
    ///   - rows: the rows to use (all when nil).
    public init(
        table: CSVTable, statistics: TableStatistics, missing: MissingValues = .error, rows: Range<Int>? = nil
    ) throws {
        let featureColumns = try statistics.features.map { try table.index(of: $0.name, role: "feature") }
        let targetColumns = try statistics.targets.map { try table.index(of: $0) }
        let range = try TableDataset.rows(rows, of: table)
        var kept: [Int] = []
        for r in range {
            let row = table.rows[r]
            if let c = (featureColumns + targetColumns).first(where: { Self.isMissing(row[$0]) }) {
                if missing == .drop { continue }
                if missing == .error || targetColumns.contains(c) {
                    throw DatasetError(
                        "\(table.name) line \(table.lines[r]), column '\(table.columns[c])': the value is missing; "
                            + "fill it in, or set data.missing to "
                            + (targetColumns.contains(c) ? "drop (a missing target cannot be filled)" : "mean or drop"))
                }
            }
            kept.append(r)
        }
        guard !kept.isEmpty else {
            throw DatasetError("\(table.name) has no rows left to use (every row has a missing value)")
        }
        let n = kept.count
        let x = try Self.features(of: table, rows: kept, statistics: statistics)
        switch statistics.task {
        case .classification:
            let y = NDArray(shape: [n], dtype: .int32, zeroed: false)
            let ids = Dictionary(uniqueKeysWithValues: statistics.classNames.enumerated().map { ($1, Int32($0)) })
            for (i, r) in kept.enumerated() {
                let value = table.rows[r][targetColumns[0]].trimmingCharacters(in: .whitespaces)
                guard let id = ids[value] ?? Int(value).flatMap({ ids[String($0)] }) else {
                    throw DatasetError(
                        "\(table.name) line \(table.lines[r]): the target '\(statistics.targets[0])' is '\(value)', "
                            + "a class the training rows do not have (they have "
                            + statistics.classNames.map { "'\($0)'" }.joined(separator: ", ") + ")")
                }
                y.int32Pointer[i] = id
            }
            targets = y
        case .regression:
            let k = targetColumns.count
            let y = NDArray(shape: [n, k], zeroed: false)
            for (i, r) in kept.enumerated() {
                for (j, c) in targetColumns.enumerated() {
                    guard let v = Double(table.rows[r][c].trimmingCharacters(in: .whitespaces)), v.isFinite else {
                        throw Self.badNumber(table, row: r, column: c)
                    }
                    y.ptr[i * k + j] = Float(v)
                }
            }
            targets = y
        }
        (self.statistics, inputs, droppedRows) = (statistics, x, range.count - n)
    }

    /// The encoded features of `rows` (N, inputWidth): numeric cells standardised when the
    /// statistics say so (a missing one takes the mean), categories one-hot (a missing or unseen
    /// one all zeros). Target columns are not read, so a table without them encodes too.
    /// - Parameters:
    ///   - table: a table with every feature column (any order; extra columns are ignored).
    ///   - rows: indices into `table.rows`.
    ///   - statistics: the training split's.
    /// - Throws: `DatasetError` naming a missing feature column or a cell that is not a finite number.
    public static func features(of table: CSVTable, rows: [Int], statistics: TableStatistics) throws -> NDArray {
        let featureColumns = try statistics.features.map { try table.index(of: $0.name, role: "feature") }
        let width = statistics.inputWidth
        let x = NDArray(shape: [rows.count, width])
        for (i, r) in rows.enumerated() {
            var out = x.ptr + i * width
            for (feature, c) in zip(statistics.features, featureColumns) {
                let cell = table.rows[r][c].trimmingCharacters(in: .whitespaces)
                switch feature.kind {
                case .numeric:
                    var v = feature.mean
                    if !Self.isMissing(cell) {
                        guard let parsed = Double(cell), parsed.isFinite else {
                            throw badNumber(table, row: r, column: c)
                        }
                        v = parsed
                    }
                    out[0] = Float(statistics.standardized ? (v - feature.mean) / feature.std : v)
                    out += 1
                case .categorical:
                    if let k = feature.categories.firstIndex(of: cell) { out[k] = 1 }
                    out += feature.categories.count
                }
            }
        }
        return x
    }

    /// A training and a validation split of one table: the last `validationFraction` of its rows
    /// validate, and the statistics come from the rest.
    public static func split(
        table: CSVTable, target: [String], task: DatasetTask, validationFraction: Double,
        missing: MissingValues = .error, standardize: Bool = true, ignore: [String] = []
    ) throws -> (train: TableDataset, validation: TableDataset) {
        let n = table.rows.count, cut = n - Int((Double(n) * validationFraction).rounded())
        guard validationFraction > 0, validationFraction < 1, cut > 0, cut < n else {
            throw DatasetError(
                "a validation fraction of \(validationFraction) leaves an empty part of the \(n) rows of "
                    + "\(table.name); choose one in (0, 1) that leaves rows on both sides")
        }
        let train = try TableDataset(
            table: table, target: target, task: task, missing: missing, standardize: standardize, ignore: ignore,
            rows: 0..<cut)
        let validation = try TableDataset(
            table: table, statistics: train.statistics, missing: missing, rows: cut..<n)
        return (train, validation)
    }

    public var count: Int { inputs.shape[0] }
    public var inputShape: Shape { [statistics.inputWidth] }
    public var inputType: DType { .float32 }
    public var task: DatasetTask { statistics.task }
    public var targetWidth: Int { task == .regression ? statistics.targets.count : 1 }
    public var classCount: Int { task == .regression ? statistics.targets.count : statistics.classNames.count }

    public func batch(_ indices: ArraySlice<Int>) -> Batch {
        let width = statistics.inputWidth, k = task == .regression ? targetWidth : 1
        let x = NDArray(shape: [indices.count, width], zeroed: false)
        let y = NDArray(
            shape: task == .regression ? [indices.count, k] : [indices.count], dtype: targets.dtype, zeroed: false)
        let elementBytes = 4
        for (row, i) in indices.enumerated() {
            precondition(i >= 0 && i < count, "sample \(i) is outside a dataset of \(count)")
            (x.ptr + row * width).update(from: inputs.ptr + i * width, count: width)
            (y.storage.raw + row * k * elementBytes).copyMemory(
                from: targets.storage.raw + i * k * elementBytes, byteCount: k * elementBytes)
        }
        return Batch(inputs: x, targets: y)
    }

    /// The rows `rows` of `table` (all when nil), checked to lie inside it.
    static func rows(_ rows: Range<Int>?, of table: CSVTable) throws -> Range<Int> {
        guard let rows else { return table.rows.indices }
        guard rows.lowerBound >= 0, rows.upperBound <= table.rows.count, !rows.isEmpty else {
            throw DatasetError("rows \(rows) are not a non-empty part of the \(table.rows.count) rows of \(table.name)")
        }
        return rows
    }

    /// Whether a cell counts as missing: empty, or `NA`.
    public static func isMissing(_ cell: String) -> Bool {
        let t = cell.trimmingCharacters(in: .whitespaces)
        return t.isEmpty || t == "NA"
    }

    /// The error for a numeric column's cell that is not a finite number.
    static func badNumber(_ table: CSVTable, row: Int, column: Int) -> DatasetError {
        let cell = table.rows[row][column].trimmingCharacters(in: .whitespaces)
        let place = "\(table.name) line \(table.lines[row]), column '\(table.columns[column])'"
        if let v = Double(cell) {
            return DatasetError(
                "\(place) holds \(v.isNaN ? "NaN" : "an infinite value") ('\(cell)'); values must be finite numbers: "
                    + "fix the cell, or leave it empty and set data.missing to mean or drop")
        }
        return DatasetError(
            "\(place) holds '\(cell)', which is not a number, in a numeric column; fix the cell "
                + "(numbers use a decimal point), or leave it empty and set data.missing to mean or drop")
    }
}
