import Foundation

/// What a table's training split says about its columns: each feature's kind, mean and spread
/// or categories, and the target's classes. Saved with a run, so evaluation and prediction
/// encode their tables exactly as training did.
public struct TableStatistics: Codable, Equatable, Sendable {
    /// One input column.
    public struct Feature: Codable, Equatable, Sendable {
        public enum Kind: String, Codable, Sendable { case numeric, categorical }
        public var name: String
        public var kind: Kind
        /// A numeric column's mean and population standard deviation over the training rows
        /// (a constant column's deviation is taken as 1); 0 and 1 for a categorical one.
        public var mean: Double, std: Double
        /// A categorical column's values in the training rows, sorted; each is one input.
        public var categories: [String]
    }

    public var task: DatasetTask
    /// The target columns: one for classification, one or more for regression.
    public var targets: [String]
    /// The classes, in id order (classification); empty for regression.
    public var classNames: [String]
    public var features: [Feature]
    /// Whether numeric features are standardised, (x - mean) / std.
    public var standardized: Bool

    /// Inputs per row: one per numeric column, one per category of a categorical column.
    public var inputWidth: Int { features.reduce(0) { $0 + ($1.kind == .numeric ? 1 : $1.categories.count) } }

    /// Measures the rows of a training table.
    /// - Parameters:
    ///   - table: the training table.
    ///   - targets: the target column (classification) or columns (regression).
    ///   - task: classification or regression.
    ///   - ignore: columns that are neither features nor targets (ids, free text).
    ///   - missing: what a missing cell means; with `drop`, rows with one are left out.
    ///   - standardize: standardise numeric features with the measured mean and deviation.
    ///   - rows: the training rows (all rows when nil).
    public static func measure(
        _ table: CSVTable, targets: [String], task: DatasetTask, ignore: [String] = [],
        missing: TableDataset.MissingValues = .error, standardize: Bool = true, rows: Range<Int>? = nil
    ) throws -> TableStatistics {
        guard !targets.isEmpty, task == .regression || targets.count == 1 else {
            let wanted =
                targets.isEmpty ? "a target column" : "one target column for classification, not \(targets.count)"
            throw DatasetError("\(table.name): name \(wanted)")
        }
        let targetColumns = try targets.map { try table.index(of: $0) }
        let ignored = try ignore.map { try table.index(of: $0, role: "ignored") }
        let featureColumns = table.columns.indices.filter { !targetColumns.contains($0) && !ignored.contains($0) }
        guard !featureColumns.isEmpty else {
            throw DatasetError("\(table.name) has no feature columns besides the target; add input columns")
        }
        let range = try TableDataset.rows(rows, of: table)
        let kept = range.filter { r in
            missing != .drop || !(featureColumns + targetColumns).contains { TableDataset.isMissing(table.rows[r][$0]) }
        }
        guard !kept.isEmpty else {
            throw DatasetError("\(table.name): every training row has a missing value, so none is left to train on")
        }
        var features: [Feature] = []
        for c in featureColumns {
            let present = kept.map { table.rows[$0][c] }.filter { !TableDataset.isMissing($0) }
            let numbers = present.compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            let name = table.columns[c]
            // Numeric when most values are numbers: a stray word is then an error, not a category.
            guard !present.isEmpty, numbers.count * 2 > present.count else {
                let categories = Set(present.map { $0.trimmingCharacters(in: .whitespaces) }).sorted()
                features.append(Feature(name: name, kind: .categorical, mean: 0, std: 1, categories: categories))
                continue
            }
            if let bad = kept.first(where: {
                let cell = table.rows[$0][c]
                return !TableDataset.isMissing(cell)
                    && !(Double(cell.trimmingCharacters(in: .whitespaces)) ?? .nan).isFinite
            }) {
                throw TableDataset.badNumber(table, row: bad, column: c)
            }
            let mean = numbers.reduce(0, +) / Double(numbers.count)
            let variance = numbers.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(numbers.count)
            let std = variance.squareRoot() > 1e-12 ? variance.squareRoot() : 1
            features.append(Feature(name: name, kind: .numeric, mean: mean, std: std, categories: []))
        }
        var classNames: [String] = []
        if task == .classification {
            let values = Set(
                kept.map { table.rows[$0][targetColumns[0]].trimmingCharacters(in: .whitespaces) }
                    .filter { !TableDataset.isMissing($0) })
            // Integer classes sort as numbers (2 before 10); any other names as text.
            let integers = values.compactMap { Int($0) }
            classNames = integers.count == values.count ? integers.sorted().map(String.init) : values.sorted()
            guard classNames.count >= 2 else {
                throw DatasetError(
                    "\(table.name): the target column '\(targets[0])' has \(classNames.count) distinct value in the "
                        + "training rows; classification needs at least two classes")
            }
        }
        return TableStatistics(
            task: task, targets: targets, classNames: classNames, features: features, standardized: standardize)
    }

    /// Writes the statistics as JSON.
    public func save(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard FileManager.default.createFile(atPath: path, contents: try encoder.encode(self)) else {
            throw DatasetError(
                "cannot write the table statistics to \(path); check that its folder exists and is writable")
        }
    }

    /// Reads statistics that `save(to:)` wrote.
    public static func load(from path: String) throws -> TableStatistics {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DatasetError(
                "the table statistics \(path) are missing or unreadable; they are written by training into the run "
                    + "folder, and evaluation needs the run's own copy")
        }
        do {
            return try JSONDecoder().decode(TableStatistics.self, from: data)
        } catch let error as DecodingError {
            let detail: String
            switch error {
            case .keyNotFound(let key, _): detail = "the key '\(key.stringValue)' is missing"
            case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c):
                detail = (c.codingPath.map(\.stringValue).joined(separator: ".") + " " + c.debugDescription)
                    .trimmingCharacters(in: .whitespaces)
            @unknown default: detail = "it does not decode"
            }
            throw DatasetError("\(path) is not a table statistics file (\(detail)); use the one training wrote")
        }
    }
}
