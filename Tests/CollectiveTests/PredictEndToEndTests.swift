import Foundation
import Testing

/// `tandem predict` as a user runs it, on runs trained by `tandem train` in real processes: the
/// numbers checked against the model computed here, one rank against two, and each mistake's message.
extension MPIJobs {
    @Suite("tandem predict end to end", .serialized)
    struct PredictEndToEndTests {
        static var tandem: String { TrainEndToEndTests.tandem }

        /// Small runs trained once for the suite: an MLP on an image folder, an MLP regressor on
        /// a table, and an LSTM and a GPT language model on a text.
        struct Runs {
            let base: String
            var images: String { base + "/images-run" }
            var table: String { base + "/table-run" }
            var text: String { base + "/text-run" }
            var gpt: String { base + "/gpt-run" }
            var folder: String { base + "/folder" }
            let verse: String
        }

        static let runs: Result<Runs, any Error> = Result {
            let base = NSTemporaryDirectory() + "tandem-predict-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
            PredictFixtures.removeAtExit(base)
            try PredictFixtures.imageFolder(base + "/folder")
            for (name, rows, seed) in [("train", 160, 1), ("test", 20, 2)] {
                try PredictFixtures.table(rows: rows, seed: seed)
                    .write(toFile: "\(base)/\(name).csv", atomically: true, encoding: .utf8)
            }
            let verse = String(
                repeating: "to be, or not to be: that is the question.\nwhether 'tis nobler in the mind to suffer\n",
                count: 20)
            try verse.write(toFile: base + "/verse.txt", atomically: true, encoding: .utf8)
            let common = "seed: 0\nlogging: {progress: plain}\noptimizer: {name: adam, lr: 0.01}\n"
            let configs = [
                "images": common + """
                    model: {name: mlp, hidden_sizes: [16]}
                    data: {name: image_folder, directory: \(base)/folder, channels: 1, validation_fraction: 0.25,
                      batch_size: 8}
                    training: {epochs: 25}
                    """,
                "table": common + """
                    model: {name: mlp, hidden_sizes: [16]}
                    data: {name: csv, train: \(base)/train.csv, test: \(base)/test.csv, target: y, task: regression,
                      batch_size: 16}
                    training: {epochs: 30}
                    """,
                "gpt": common + """
                    model: {name: gpt, embedding_size: 16, layers: 1, heads: 2}
                    data: {name: text, path: \(base)/verse.txt, context: 16, targets: every, batch_size: 8}
                    training: {epochs: 1, max_steps: 30}
                    """,
                "text": common + """
                    model: {name: lstm, embedding_size: 16, hidden_size: 32}
                    data: {name: text, path: \(base)/verse.txt, context: 16, targets: every, batch_size: 8}
                    training: {epochs: 1, max_steps: 60}
                    """,
            ]
            for (name, yaml) in configs {
                try yaml.write(toFile: "\(base)/\(name).yaml", atomically: true, encoding: .utf8)
                let run = try MPIRun.launch(
                    tandem, ["train", "\(base)/\(name).yaml", "--run-dir", "\(base)/\(name)-run"],
                    environment: ["TANDEM_NUM_THREADS": "1"], timeout: 300)
                guard run.status == 0 else { throw PredictTestFailure("training \(name) failed: \(run.stderr)") }
            }
            return Runs(base: base, verse: verse)
        }

        struct PredictTestFailure: Error, CustomStringConvertible {
            let description: String
            init(_ description: String) { self.description = description }
        }

        static func predict(_ arguments: [String], ranks: Int? = nil) throws -> MPIRun {
            guard let ranks else {
                return try MPIRun.launch(
                    tandem, ["predict"] + arguments, environment: ["TANDEM_NUM_THREADS": "1"], timeout: 120)
            }
            return try MPIRun.launch(
                "/usr/bin/env",
                ["mpirun", "-np", "\(ranks)", "--oversubscribe", "--bind-to", "none", tandem, "predict"] + arguments,
                environment: ["TANDEM_NUM_THREADS": "1"], timeout: 120)
        }

        static func objects(_ stdout: String) throws -> [[String: Any]] {
            try stdout.split(separator: "\n").map {
                try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
            }
        }

        /// The model's input for a PNG of the folder: pixels / 255, normalised with the run's
        /// per-channel statistics (normalization.json).
        static func preprocessed(_ pixels: [UInt8], run: String) throws -> [Float] {
            let stats =
                try JSONSerialization.jsonObject(
                    with: Data(contentsOf: URL(fileURLWithPath: run + "/normalization.json"))) as! [String: [Double]]
            let (mean, std) = (Float(stats["mean"]![0]), Float(stats["std"]![0]))
            return pixels.map { (Float($0) / 255 - mean) / std }
        }

        /// A PNG's probabilities are the softmax of the MLP computed here on the image decoded and
        /// normalised as the run's data was; the top classes are named after the folders; a `.npy`
        /// batch of the same pixels gives the same numbers.
        @Test func imageProbabilitiesEqualTheModelsSoftmax() throws {
            let runs = try Self.runs.get()
            let file = runs.folder + "/test/left/1.png"
            let pixels = PredictFixtures.image(1, seed: 1000 + 100 + 1)
            let npy = runs.base + "/batch.npy"
            let batch = pixels.map { Float($0) / 255 } + [Float](repeating: 0.5, count: 64)
            try PredictFixtures.npy(batch, shape: [2, 1, 8, 8]).write(to: URL(fileURLWithPath: npy))
            let run = try Self.predict([runs.images, file, npy, "--json", "--top-k", "2"])
            #expect(run.status == 0, "\(run.stderr)")
            let objects = try Self.objects(run.stdout)
            #expect(objects.map { $0["input"] as! String } == [file, npy + "[0]", npy + "[1]"])
            let weights = try PredictFixtures.weights(runs.images)
            let x = try Self.preprocessed(pixels, run: runs.images)
            let logits = PredictFixtures.mlp(x, weights: weights, hidden: 16)
            let expected = PredictFixtures.softmax(logits)
            for object in objects.prefix(2) {
                let probabilities = object["probabilities"] as! [Double], raw = object["logits"] as! [Double]
                #expect(probabilities.count == 3 && raw.count == 3)
                for k in 0..<3 {
                    #expect(Swift.abs(probabilities[k] - expected[k]) < 1e-5, "\(probabilities) vs \(expected)")
                    #expect(Swift.abs(raw[k] - logits[k]) < 1e-4 * Swift.max(1, Swift.abs(logits[k])))
                }
                let top = object["top_k"] as! [[String: Any]]
                #expect(top.count == 2 && top[0]["class"] as? String == "left" && top[0]["index"] as? Int == 1)
                #expect(top[0]["probability"] as! Double >= top[1]["probability"] as! Double)
                #expect(object["classes"] as! [String] == PredictFixtures.classes)
            }
            // The text form: the input, then one line per class with its probability and name.
            let text = try Self.predict([runs.images, file])
            #expect(text.status == 0, "\(text.stderr)")
            let lines = text.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == 4 && lines[0] == file, "\(text.stdout)")
            // The run's last checkpoint and its weights file hold the same model.
            let latest = try String(contentsOfFile: runs.images + "/checkpoints/latest", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            for other in [runs.images + "/checkpoints/" + latest, runs.images + "/model.safetensors"] {
                let same = try Self.predict([other, file])
                #expect(same.status == 0 && same.stdout == text.stdout, "\(other): \(same.stderr)")
            }
            let first = lines[1].split(separator: " ")
            #expect(first.count == 2 && first[1] == "left", "\(text.stdout)")
            #expect(Swift.abs(Double(first[0])! - expected[1]) <= 0.00005 + 1e-6, "\(text.stdout)")
        }

        /// Colour and size are converted as the run's data converts them: an RGB PNG whose three
        /// channels equal the grey image gives its probabilities (the luma weights sum to 1), and
        /// the image at twice the size is resized back to 8x8 and keeps its class.
        @Test func imagesAreConvertedAndResized() throws {
            let runs = try Self.runs.get()
            let pixels = PredictFixtures.image(1, seed: 1000 + 100 + 1)
            let rgb = runs.base + "/rgb.png", big = runs.base + "/big.png"
            let interleaved: [UInt8] = pixels.flatMap { (v: UInt8) -> [UInt8] in [v, v, v] }
            try Data(PredictFixtures.png(interleaved, width: 8, height: 8, channels: 3))
                .write(to: URL(fileURLWithPath: rgb))
            let doubled: [UInt8] = (0..<256).map { (i: Int) -> UInt8 in
                let (y, x) = (i / 16, i % 16)
                return pixels[(y / 2) * 8 + x / 2]
            }
            try Data(PredictFixtures.png(doubled, width: 16, height: 16)).write(to: URL(fileURLWithPath: big))
            let run = try Self.predict([runs.images, runs.folder + "/test/left/1.png", rgb, big, "--json"])
            #expect(run.status == 0, "\(run.stderr)")
            let objects = try Self.objects(run.stdout)
            let p = objects.map { $0["probabilities"] as! [Double] }
            #expect(p.count == 3 && zip(p[0], p[1]).allSatisfy { Swift.abs($0 - $1) < 1e-5 }, "\(p)")
            #expect((objects[2]["top_k"] as! [[String: Any]])[0]["class"] as? String == "left", "\(objects[2])")
        }

        /// A Fashion-MNIST run names its classes after the clothes, and a PNG is scaled and
        /// standardised with the dataset's published mean and std, as its IDX bytes were.
        @Test(
            .enabled(
                if: FileManager.default.fileExists(
                    atPath: "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")))
        func fashionMNISTPredictionsNameTheClothes() throws {
            let base = NSTemporaryDirectory() + "tandem-predict-fmnist-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: base) }
            let train = try MPIRun.launch(
                Self.tandem,
                [
                    "train", packageRoot + "/configs/mlp_fmnist.yaml", "--run-dir", base + "/run",
                    "--set", "model.hidden_sizes=[16]", "--set", "model.dropout=0", "--set", "data.limit=640",
                    "--set", "training.epochs=1", "--set", "logging.progress=plain",
                ], environment: ["TANDEM_NUM_THREADS": "1"], timeout: 300)
            #expect(train.status == 0, "\(train.stderr)")
            let pixels: [UInt8] = (0..<784).map { (i: Int) -> UInt8 in
                UInt8(truncatingIfNeeded: i * 7 + (i / 28) * 13)
            }
            try Data(PredictFixtures.png(pixels, width: 28, height: 28))
                .write(to: URL(fileURLWithPath: base + "/x.png"))
            try PredictFixtures.npy(pixels.map { Float($0) / 255 }, shape: [1, 28, 28])
                .write(to: URL(fileURLWithPath: base + "/x.npy"))
            let run = try Self.predict([base + "/run", base + "/x.png", base + "/x.npy", "--json", "--top-k", "3"])
            #expect(run.status == 0, "\(run.stderr)")
            let objects = try Self.objects(run.stdout)
            let object = try #require(objects.first)
            // The same pixels as an array in [0, 1] are standardised alike (but for the PNG's 8-bit rounding).
            let fromArray = try #require(objects.last?["probabilities"] as? [Double])
            #expect(zip(fromArray, object["probabilities"] as! [Double]).allSatisfy { Swift.abs($0 - $1) < 1e-5 })
            let names = [
                "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                "Ankle boot",
            ]
            #expect(object["classes"] as! [String] == names)
            let scale: Float = 1 / (255 * 0.3530), shift: Float = -0.2860 / 0.3530
            let x = pixels.map { Float($0) * scale + shift }
            let expected = PredictFixtures.softmax(
                PredictFixtures.mlp(x, weights: try PredictFixtures.weights(base + "/run"), hidden: 16))
            let probabilities = object["probabilities"] as! [Double]
            #expect(zip(probabilities, expected).allSatisfy { Swift.abs($0 - $1) < 1e-5 }, "\(probabilities)")
            let top = object["top_k"] as! [[String: Any]]
            let best = expected.indices.max { expected[$0] < expected[$1] }!
            #expect(top.count == 3 && top[0]["class"] as? String == names[best])
        }

        /// A sequence classifier reads int32 token arrays: a batch's first sample gives what the
        /// same sample alone gives, ids outside the vocabulary and float arrays are refused.
        @Test func tokenArraysForASequenceClassifier() throws {
            let base = NSTemporaryDirectory() + "tandem-predict-tokens-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: base) }
            let train = try MPIRun.launch(
                Self.tandem,
                [
                    "train", packageRoot + "/configs/lstm_memory.yaml", "--run-dir", base + "/run",
                    "--set", "data.memory.samples=256", "--set", "data.memory.test_samples=32",
                    "--set", "data.memory.length=8", "--set", "training.epochs=1", "--set", "logging.progress=plain",
                ], environment: ["TANDEM_NUM_THREADS": "1"], timeout: 300)
            #expect(train.status == 0, "\(train.stderr)")
            let sequence: [Int32] = [3, 1, 2, 5, 6, 7, 8, 9]
            let files = [
                "batch": PredictFixtures.npy(ids: sequence + [2, 1, 1, 1, 1, 1, 1, 1], shape: [2, 8]),
                "one": PredictFixtures.npy(ids: sequence, shape: [8]),
                "outside": PredictFixtures.npy(ids: Array(sequence.dropLast()) + [99], shape: [8]),
                "floats": PredictFixtures.npy([Float](repeating: 1, count: 8), shape: [8]),
            ]
            for (name, data) in files { try data.write(to: URL(fileURLWithPath: "\(base)/\(name).npy")) }
            let run = try Self.predict([base + "/run", base + "/batch.npy", base + "/one.npy", "--json"])
            #expect(run.status == 0, "\(run.stderr)")
            let objects = try Self.objects(run.stdout)
            #expect(objects.count == 3)
            #expect(objects[0]["classes"] as! [String] == ["class 0", "class 1", "class 2", "class 3"])
            let first = objects[0]["probabilities"] as! [Double], alone = objects[2]["probabilities"] as! [Double]
            #expect(first == alone && Swift.abs(first.reduce(0, +) - 1) < 1e-9)
            let outside = try Self.predict([base + "/run", base + "/outside.npy"])
            #expect(outside.status == 2, "\(outside.stderr)")
            #expect(
                outside.stderr.contains("outside.npy holds token id 99 at position 7, but the model knows ids 0 to 15"),
                "\(outside.stderr)")
            let floats = try Self.predict([base + "/run", base + "/floats.npy"])
            #expect(floats.status == 2 && floats.stderr.contains("but the model reads token ids"), "\(floats.stderr)")
        }

        /// Predicting every image of the test folder gets right exactly the share `tandem eval`
        /// reports as the test accuracy; two ranks print what one rank prints.
        @Test func folderAgreesWithEvalAndTwoRanksMatchOne() throws {
            let runs = try Self.runs.get()
            let one = try Self.predict([runs.images, runs.folder + "/test", "--json"])
            #expect(one.status == 0, "\(one.stderr)")
            let objects = try Self.objects(one.stdout)
            #expect(objects.count == 12)
            let correct = objects.filter { object in
                let input = object["input"] as! String, top = (object["top_k"] as! [[String: Any]])[0]
                return input.contains("/test/\(top["class"] as! String)/")
            }.count
            let eval = try MPIRun.launch(
                Self.tandem, ["eval", runs.images, "--json"], environment: ["TANDEM_NUM_THREADS": "1"], timeout: 60)
            #expect(eval.status == 0, "\(eval.stderr)")
            let evaluated = try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as! [String: Any]
            #expect(Double(correct) / 12 == evaluated["accuracy"] as! Double)
            #expect(correct >= 10, "the model learned the three patterns: \(correct)/12")
            for json in [true, false] {
                let flags = [runs.images, runs.folder + "/test"] + (json ? ["--json"] : [])
                let single = try Self.predict(flags, ranks: 1), pair = try Self.predict(flags, ranks: 2)
                #expect(single.status == 0 && pair.status == 0, "\(single.stderr)\n\(pair.stderr)")
                #expect(pair.stdout == single.stdout && !single.stdout.isEmpty)
            }
        }

        /// A CSV row without its target column: the regressor's value is the MLP computed here on
        /// the row encoded with the run's table statistics, printed under the target's name.
        @Test func csvRowsGiveTheRegressorsValues() throws {
            let runs = try Self.runs.get()
            let rows = runs.base + "/rows.csv"
            try "colour,b,a\nred,0.5,1.25\nblue,1.5,-0.5\n".write(toFile: rows, atomically: true, encoding: .utf8)
            let run = try Self.predict([runs.table, rows, "--json"])
            #expect(run.status == 0, "\(run.stderr)")
            let objects = try Self.objects(run.stdout)
            #expect(objects.map { $0["input"] as! String } == [rows + ":2", rows + ":3"])
            let stats =
                try JSONSerialization.jsonObject(
                    with: Data(contentsOf: URL(fileURLWithPath: runs.table + "/table_statistics.json")))
                as! [String: Any]
            let features = stats["features"] as! [[String: Any]]
            let weights = try PredictFixtures.weights(runs.table)
            let rowCells = [["a": "1.25", "b": "0.5", "colour": "red"], ["a": "-0.5", "b": "1.5", "colour": "blue"]]
            for (object, cells) in zip(objects, rowCells) {
                var x: [Float] = []
                for feature in features {
                    let cell = cells[feature["name"] as! String]!
                    if feature["kind"] as! String == "numeric" {
                        let (mean, std) = (feature["mean"] as! Double, feature["std"] as! Double)
                        x.append(Float((Double(cell)! - mean) / std))
                    } else {
                        x += (feature["categories"] as! [String]).map { $0 == cell ? 1 : 0 }
                    }
                }
                let expected = PredictFixtures.mlp(x, weights: weights, hidden: 16)[0]
                let values = object["values"] as! [String: Double]
                #expect(Swift.abs(values["y"]! - expected) < 1e-4, "\(values) vs \(expected)")
                #expect((object["outputs"] as! [Double]) == [values["y"]!])
            }
            // Trained on y = 2a - b (+1 for red): the first row's value is near 2·1.25 - 0.5 + 1 = 3.
            let first = (objects[0]["values"] as! [String: Double])["y"]!
            #expect(Swift.abs(first - 3) < 0.75, "predicted \(first)")
            let text = try Self.predict([runs.table, rows])
            #expect(text.stdout.hasPrefix(rows + ":2: y "), "\(text.stdout)")
        }

        /// A prompt to the LSTM: the same seed gives the same text, `tandem sample` with that seed
        /// the same continuation, two ranks the same output as one, every character one of the text's.
        @Test func promptsToTheRecurrentLanguageModel() throws {
            let runs = try Self.runs.get()
            let flags = [runs.text, "--prompt", "to be", "--prompt", "whether", "--length", "60", "--seed", "3"]
            let a = try Self.predict(flags + ["--json"]), b = try Self.predict(flags + ["--json"])
            #expect(a.status == 0, "\(a.stderr)")
            #expect(a.stdout == b.stdout)
            let objects = try Self.objects(a.stdout)
            #expect(objects.map { $0["prompt"] as! String } == ["to be", "whether"])
            let generated = objects.map { $0["generated"] as! String }
            #expect(generated.allSatisfy { $0.unicodeScalars.count == 60 })
            #expect(Set(generated.joined().utf8).isSubset(of: Set(runs.verse.utf8)))
            #expect((objects[0]["tokens"] as! [Int]).count == 60)
            let sample = try MPIRun.launch(
                Self.tandem, ["sample", runs.text, "--prompt", "to be", "--length", "60", "--seed", "3"],
                environment: [:], timeout: 60)
            #expect(sample.status == 0, "\(sample.stderr)")
            #expect(sample.stdout == "to be" + generated[0] + "\n")
            let single = try Self.predict(flags, ranks: 1), pair = try Self.predict(flags, ranks: 2)
            #expect(pair.status == 0 && pair.stdout == single.stdout, "\(pair.stderr)")
            #expect(single.stdout == "to be" + generated[0] + "\n\nwhether" + generated[1] + "\n")
        }

        /// The GPT's prompts go through the same path: each equals `tandem sample` with the prompt's seed.
        @Test func promptsToTheGPT() throws {
            let runs = try Self.runs.get()
            let run = try Self.predict(
                [runs.gpt, "--prompt", "to be", "--prompt", "or not", "--length", "30", "--seed", "5", "--json"])
            #expect(run.status == 0, "\(run.stderr)")
            let generated = try Self.objects(run.stdout).map { $0["generated"] as! String }
            #expect(generated.count == 2)
            for (i, prompt) in ["to be", "or not"].enumerated() {
                let sample = try MPIRun.launch(
                    Self.tandem, ["sample", runs.gpt, "--prompt", prompt, "--length", "30", "--seed", "\(5 + i)"],
                    environment: [:], timeout: 60)
                #expect(sample.status == 0 && sample.stdout == prompt + generated[i] + "\n", "\(sample.stderr)")
            }
        }
    }
}
