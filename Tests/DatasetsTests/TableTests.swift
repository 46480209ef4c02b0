import Datasets
import Foundation
import Testing

@Suite("CSV tables and TableDataset, on files the tests write")
struct TableTests {
    /// Writes `text` to a fresh file and parses it.
    static func table(_ text: String, name: String = "t.csv") throws -> CSVTable {
        let path = temporaryFolder() + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return try CSVTable(path: path)
    }

    @Test func parsesRFC4180() throws {
        let t = try Self.table("\u{FEFF}a,\"b, c\",d\r\n1,\"x \"\"quoted\"\"\",\"two\nlines\"\r\n\n3,,\"\"\n")
        #expect(t.columns == ["a", "b, c", "d"])
        #expect(t.rows == [["1", "x \"quoted\"", "two\nlines"], ["3", "", ""]])
        #expect(t.lines == [2, 5])
        let noFinalNewline = try Self.table("a,b\n1,2")
        #expect(noFinalNewline.rows == [["1", "2"]])
    }

    /// Malformed files are errors naming the file, the line and what to do.
    @Test(
        arguments: [
            ("a,b,c\n1,2,3\n4,5\n", "line 3 has 2 fields but the header has 3 columns"),
            ("a,b\n1,\"open\n2,3\n", "line 2: a quoted field never closes"),
            ("a,b\n\"x\"y,2\n", "line 2: text after a closing quote"),
            ("", "is empty; a CSV table needs a header row"),
            ("a,a\n1,2\n", "names the column 'a' twice"),
            ("a,b\n", "has a header but no data rows"),
            ("a,,c\n1,2,3\n", "a column without a name (column 2"),
        ])
    func malformedFiles(text: String, expected: String) throws {
        let path = temporaryFolder() + "/bad.csv"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let error = message { _ = try CSVTable(path: path) }
        #expect(error?.contains(expected) == true && error?.contains(path) == true, "\(error ?? "no error")")
    }

    /// Numbers standardised with the training mean and deviation, strings one-hot, classes sorted.
    @Test func classificationEncoding() throws {
        let train = try Self.table("x,colour,label\n1,red,cat\n2,blue,dog\n3,red,cat\n6,green,bird\n")
        let ds = try TableDataset(table: train, target: ["label"], task: .classification)
        let s = ds.statistics
        #expect(s.classNames == ["bird", "cat", "dog"] && ds.classCount == 3 && ds.task == .classification)
        #expect(
            s.features.map(\.kind) == [.numeric, .categorical] && s.features[1].categories == ["blue", "green", "red"])
        #expect(s.features[0].mean == 3 && Swift.abs(s.features[0].std - 3.5.squareRoot()) < 1e-12)
        #expect(ds.inputShape == [4] && ds.count == 4)
        let b = ds.batch([1, 3])
        let z = Float(-1 / 3.5.squareRoot()), w = Float(3 / 3.5.squareRoot())
        #expect(b.inputs.scalars == [z, 1, 0, 0, w, 0, 1, 0] && b.targets.indices == [2, 0])
        // The test split uses the training statistics; an unseen category is all zero.
        let test = try Self.table("label,colour,x,extra\ndog,purple,3,9\n")
        let t = try TableDataset(table: test, statistics: s)
        #expect(t.batch([0]).inputs.scalars == [0, 0, 0, 0] && t.batch([0]).targets.indices == [2])
        let unknown = try Self.table("x,colour,label\n1,red,fish\n", name: "u.csv")
        #expect(
            message { _ = try TableDataset(table: unknown, statistics: s) }?.contains(
                "u.csv line 2: the target 'label' is 'fish', a class the training rows do not have") == true)
        let lacking = try Self.table("x,label\n1,cat\n", name: "l.csv")
        #expect(
            message { _ = try TableDataset(table: lacking, statistics: s) }?.contains(
                "has no feature column 'colour'; its columns are 'x', 'label'") == true)
    }

    @Test func integerClassesSortAsNumbers() throws {
        let t = try Self.table("f,y\n1,10\n2,2\n3,1\n4,2\n")
        let ds = try TableDataset(table: t, target: ["y"], task: .classification, standardize: false)
        #expect(ds.statistics.classNames == ["1", "2", "10"])
        #expect(ds.batch([0, 1, 2]).targets.indices == [2, 1, 0] && ds.batch([3]).inputs.scalars == [4])
    }

    /// Float targets (N, K), one or several columns.
    @Test func regressionTargets() throws {
        let t = try Self.table("a,b,y1,y2\n1,2,0.5,10\n3,4,1.5,20\n")
        let ds = try TableDataset(table: t, target: ["y1", "y2"], task: .regression, standardize: false)
        #expect(ds.task == .regression && ds.targetWidth == 2 && ds.classCount == 2)
        let b = ds.batch([1, 0])
        #expect(
            b.targets.shape == [2, 2] && b.targets.scalars == [1.5, 20, 0.5, 10] && b.inputs.scalars == [3, 4, 1, 2])
        let bad = try Self.table("a,y\n1,2\n3,x\n", name: "r.csv")
        #expect(
            message { _ = try TableDataset(table: bad, target: ["y"], task: .regression) }?.contains(
                "r.csv line 3, column 'y' holds 'x', which is not a number") == true)
        #expect(
            message { _ = try TableDataset(table: t, target: ["y1", "y2"], task: .classification) }?.contains(
                "one target column for classification, not 2") == true)
    }

    /// Missing values: an error by default, the training mean or the row dropped on request.
    @Test func missingValues() throws {
        let t = try Self.table("a,c,y\n1,u,0\n,v,1\n3,NA,0\n5,u,1\n", name: "m.csv")
        let error = message { _ = try TableDataset(table: t, target: ["y"], task: .classification) }
        #expect(
            error?.contains(
                "m.csv line 3, column 'a': the value is missing; fill it in, or set data.missing to mean or drop")
                == true)
        let filled = try TableDataset(
            table: t, target: ["y"], task: .classification, missing: .mean, standardize: false)
        #expect(filled.count == 4 && filled.statistics.features[0].mean == 3)
        #expect(filled.batch([1, 2]).inputs.scalars == [3, 0, 1, 3, 0, 0])
        let dropped = try TableDataset(table: t, target: ["y"], task: .classification, missing: .drop)
        #expect(dropped.count == 2 && dropped.droppedRows == 2 && dropped.statistics.features[0].mean == 3)
        let noTarget = try Self.table("a,y\n1,0\n2,\n3,1\n", name: "n.csv")
        #expect(
            message { _ = try TableDataset(table: noTarget, target: ["y"], task: .classification, missing: .mean) }?
                .contains("n.csv line 3, column 'y': the value is missing; fill it in, or set data.missing to drop")
                == true)
    }

    /// Bad cells name the file, line, column and value; an unknown target lists the columns.
    @Test func badCells() throws {
        let words = try Self.table("a,y\n1,0\n2,1\nabc,0\n4,1\n", name: "w.csv")
        #expect(
            message { _ = try TableDataset(table: words, target: ["y"], task: .classification) }?.contains(
                "w.csv line 4, column 'a' holds 'abc', which is not a number, in a numeric column") == true)
        let nan = try Self.table("a,y\n1,0\nnan,1\n", name: "nan.csv")
        #expect(
            message { _ = try TableDataset(table: nan, target: ["y"], task: .classification) }?.contains(
                "nan.csv line 3, column 'a' holds NaN ('nan')") == true)
        let inf = try Self.table("a,y\n1,0\n2,1\n", name: "inf.csv")
        let s = try TableDataset(table: inf, target: ["y"], task: .classification).statistics
        let later = try Self.table("a,y\n-inf,0\n", name: "later.csv")
        #expect(
            message { _ = try TableDataset(table: later, statistics: s) }?.contains(
                "later.csv line 2, column 'a' holds an infinite value ('-inf')") == true)
        #expect(
            message { _ = try TableDataset(table: inf, target: ["label"], task: .classification) }?.contains(
                "inf.csv has no target column 'label'; its columns are 'a', 'y'") == true)
        #expect(
            message { _ = try TableDataset(table: inf, target: ["y"], task: .classification, ignore: ["id"]) }?
                .contains(
                    "has no ignored column 'id'") == true)
    }

    /// The statistics survive JSON, and a split measures only its training rows.
    @Test func statisticsAndSplit() throws {
        let t = try Self.table("a,c,y\n1,u,0\n3,v,1\n100,w,0\n")
        let (train, validation) = try TableDataset.split(
            table: t, target: ["y"], task: .classification, validationFraction: 1.0 / 3)
        #expect(train.count == 2 && validation.count == 1 && train.statistics.features[0].mean == 2)
        #expect(train.statistics.features[1].categories == ["u", "v"])
        #expect(validation.batch([0]).inputs.scalars == [98, 0, 0])
        let path = temporaryFolder() + "/stats.json"
        try train.statistics.save(to: path)
        #expect(try TableStatistics.load(from: path) == train.statistics)
        try "{\"task\": \"classification\"}".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(
            message { _ = try TableStatistics.load(from: path) }?.contains("is not a table statistics file (the key")
                == true)
        #expect(message { _ = try TableStatistics.load(from: path + ".none") }?.contains("written by training") == true)
        #expect(
            message { _ = try TableDataset(table: t, target: ["y"], task: .classification, rows: 2..<5) }?.contains(
                "rows 2..<5 are not a non-empty part of the 3 rows of") == true)
        #expect(
            message {
                _ = try TableDataset.split(table: t, target: ["y"], task: .classification, validationFraction: 0.9)
            }?
            .contains("leaves an empty part") == true)
    }
}
