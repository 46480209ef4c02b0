import Checkpoint
import Collective
import Datasets
import Foundation
import Models
import NN
import Testing
@testable import Training

/// Every zoo model saves the names, dtypes and shapes its torch.nn definition
/// (launch/interop/models.py) has in its state_dict, as launch/interop/torch_names.json records them.
@Suite("PyTorch names of the zoo", .serialized)
struct TorchNamesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..")
    static let dtypeNames: [DType: String] = [.float32: "F32", .int64: "I64"]

    /// The cases of torch_names.json: name, Swift type, `model` keys, data sizes, tensors.
    static func cases() throws -> [[String: Any]] {
        let data = try Data(contentsOf: root.appendingPathComponent("launch/interop/torch_names.json"))
        return try JSONSerialization.jsonObject(with: data) as! [[String: Any]]
    }

    /// The Swift model a case describes, built as `ModelRegistry` builds it from a config and data.
    static func model(_ type: String, _ m: [String: Any], _ s: [String: Any]) throws -> any Module {
        func int(_ d: [String: Any], _ key: String, _ fallback: Int? = nil) -> Int { d[key] as? Int ?? fallback! }
        let shape = s["input_shape"] as? [Int] ?? []
        let kind = Recurrent.Kind(rawValue: s["recurrent"] as? String ?? "lstm")!
        let image = s["image_shape"] as? [Int] ?? []
        switch type {
        case "MLP":
            return MLP(
                inputs: shape.reduce(1, *), hiddenSizes: m["hidden_sizes"] as! [Int], classes: int(s, "classes"),
                dropout: Float(m["dropout"] as? Double ?? 0))
        case "MLPRegressor":
            return MLPRegressor(
                inputs: shape.reduce(1, *), hiddenSizes: m["hidden_sizes"] as! [Int], outputs: int(s, "outputs"))
        case "LeNet5": return LeNet5(classes: int(s, "classes"))
        case "ResNet":
            return ResNet(
                inputChannels: shape[0], channels: m["channels"] as! [Int], blocksPerStage: int(m, "blocks"),
                classes: int(s, "classes"))
        case "MobileNet":
            return MobileNet(inputChannels: shape[0], channels: m["channels"] as! [Int], classes: int(s, "classes"))
        case "InceptionNet":
            return InceptionNet(inputChannels: shape[0], channels: m["channels"] as! [Int], classes: int(s, "classes"))
        case "CharMLP":
            return CharMLP(
                vocabulary: int(s, "vocabulary"), context: shape[0], embeddingSize: int(m, "embedding_size"),
                hiddenSize: int(m, "hidden_size"))
        case "RecurrentLanguageModel":
            return RecurrentLanguageModel(
                kind, vocabulary: int(s, "vocabulary"), embeddingSize: int(m, "embedding_size"),
                hiddenSize: int(m, "hidden_size"), layers: int(m, "layers"))
        case "SequenceClassifier":
            return SequenceClassifier(
                kind, vocabulary: int(s, "vocabulary"), embeddingSize: int(m, "embedding_size"),
                hiddenSize: int(m, "hidden_size"), layers: int(m, "layers"), classes: int(s, "classes"))
        case "GPT":
            return GPT(
                vocabulary: int(s, "vocabulary"), context: int(s, "context"), width: int(m, "embedding_size"),
                layers: int(m, "layers"), heads: int(m, "heads"),
                positions: GPT.Positions(rawValue: m["position_encoding"] as! String)!)
        case "VisionTransformer":
            return VisionTransformer(
                imageSize: (shape[0], shape[1], shape[2]), patch: int(m, "patch"), width: int(m, "embedding_size"),
                layers: int(m, "layers"), heads: int(m, "heads"), classes: int(s, "classes"))
        case "Seq2SeqTransformer":
            return Seq2SeqTransformer(
                vocabulary: int(s, "vocabulary"), sourceLength: int(s, "source_length"),
                targetLength: int(s, "target_length"), width: int(m, "embedding_size"), layers: int(m, "layers"),
                heads: int(m, "heads"))
        case "Autoencoder":
            return Autoencoder(imageShape: image, hidden: int(m, "hidden_size"), code: int(m, "latent_size"))
        case "VariationalAutoencoder":
            return VariationalAutoencoder(
                imageShape: image, hidden: int(m, "hidden_size"), latent: int(m, "latent_size"))
        case "DCGAN":
            return DCGAN(imageShape: image, latent: int(m, "latent_size"), width: int(m, "hidden_size"))
        case "SequentialClassifier":
            let layers = try JSONDecoder().decode(
                [LayerValue].self, from: JSONSerialization.data(withJSONObject: m["layers"]!))
            let tokens = s["vocabulary"] != nil
            let plans = try SequentialPlanner.plan(
                layers, input: .init(shape: shape, tokens: tokens, vocabulary: s["vocabulary"] as? Int))
            return SequentialClassifier(SequentialBuilder.layers(plans))
        default:
            throw TrainingError("torch_names.json has a model of type \(type), which this test does not build")
        }
    }

    /// Each model's saved tensors are the table's, name for name, with its dtypes and shapes.
    @Test func everyZooModelSavesTheTorchNames() throws {
        let cases = try Self.cases()
        #expect(cases.count >= 20)
        var types = Set<String>()
        for c in cases {
            let name = c["name"] as! String, type = c["type"] as! String
            types.insert(type)
            let model = try Self.model(type, c["model"] as! [String: Any], c["sizes"] as! [String: Any])
            let saved = ModelWeights.tensors(of: model).map {
                "\($0.0) \(Self.dtypeNames[$0.1.dtype] ?? "\($0.1.dtype)") \($0.1.shape.dims)"
            }
            let torch = (c["tensors"] as! [[Any]]).map { "\($0[0]) \($0[1]) \($0[2] as! [Int])" }
            let missing = Set(torch).subtracting(saved).sorted(), extra = Set(saved).subtracting(torch).sorted()
            #expect(missing.isEmpty && extra.isEmpty, "\(name): torch has \(missing), Tandem has \(extra)")
            #expect(saved.count == torch.count, "\(name): a tensor is saved twice")
        }
        // Every model of Sources/Models and the YAML-declared one has a case.
        let zoo: Set = [
            "MLP", "MLPRegressor", "LeNet5", "ResNet", "MobileNet", "InceptionNet", "CharMLP", "RecurrentLanguageModel",
            "SequenceClassifier", "GPT", "VisionTransformer", "Seq2SeqTransformer", "Autoencoder",
            "VariationalAutoencoder", "DCGAN", "SequentialClassifier",
        ]
        #expect(zoo.subtracting(types).isEmpty, "no case for \(zoo.subtracting(types).sorted())")
    }

    /// model.safetensors says it is PyTorch's format, holds the batch norm counter as an int64
    /// scalar, counts every batch norm forward pass in training mode, and writes a tied tensor once.
    @Test func modelFileHasFormatCounterAndTiedWeightsOnce() throws {
        let norm = BatchNorm(3)
        for _ in 0..<5 { _ = norm(Tensor(Init.normal([4, 3]))) }
        norm.eval()
        _ = norm(Tensor(Init.normal([4, 3])))
        #expect(norm.batchesTracked == 5)
        let path = NSTemporaryDirectory() + "tandem-names-\(UUID().uuidString).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try ModelWeights.save(norm, to: path, metadata: ["step": "5"])
        let (tensors, metadata) = try SafeTensors.decode(Data(contentsOf: URL(fileURLWithPath: path)), name: path)
        #expect(metadata == ["format": "pt", "step": "5"])
        let counter = tensors["num_batches_tracked"]
        #expect(counter?.dtype == .int64 && counter?.shape.dims == [] && counter?.scalars == [5])
        #expect(Set(tensors.keys) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"])
        let fresh = BatchNorm(3)
        try ModelWeights.load(fresh, from: path)
        #expect(fresh.batchesTracked == 5 && fresh.runningMean.value.scalars == norm.runningMean.value.scalars)

        let tied = TiedPair()
        try ModelWeights.save(tied, to: path)
        let written = try SafeTensors.decode(Data(contentsOf: URL(fileURLWithPath: path)), name: path).tensors
        #expect(Set(written.keys) == ["encoder.weight", "encoder.bias", "decoder.bias"])
        let back = TiedPair()
        try ModelWeights.load(back, from: path)
        #expect(back.decoder.weight.scalars == tied.encoder.weight.scalars)
    }

    /// Runs written before PyTorch names (Tests/LegacyRuns, by the previous release) still
    /// evaluate and resume; what they write afterwards has the new names.
    @Test(arguments: ["resnet", "lstm"])
    func legacyRunsEvaluateAndResume(run: String) throws {
        let fixture = Self.root.appendingPathComponent("Tests/LegacyRuns/\(run)").path
        let dir = NSTemporaryDirectory() + "tandem-legacy-\(UUID().uuidString)"
        try FileManager.default.copyItem(atPath: fixture, toPath: dir)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let old = try SafeTensors.decode(
            Data(contentsOf: URL(fileURLWithPath: dir + "/model.safetensors")), name: run
        ).tensors
        let oldName = run == "resnet" ? "stemNorm.runningVar" : "recurrent.layers.1.weightHH"
        let newName = run == "resnet" ? "stemNorm.running_var" : "recurrent.weight_hh_l1"
        #expect(old[oldName] != nil && old[newName] == nil)

        // Evaluate: the model loads from the old file, tensor for tensor.
        let (_, _, model) = try Int8ModelFile.loadRun(dir, weights: dir + "/model.safetensors")
        let loaded = Dictionary(uniqueKeysWithValues: ModelWeights.tensors(of: model))
        #expect(loaded[newName]?.scalars == old[oldName]?.scalars)
        if run == "resnet" { #expect(loaded["stemNorm.num_batches_tracked"]?.scalars == [0]) }

        // Resume its checkpoint of step 8 for 4 more steps.
        let config = try ConfigLoader.load(path: dir + "/config.yaml", overrides: ["training.epochs=3"])
        let trainer = try Trainer(
            config: config, runDirectory: dir, communicator: SingleProcessCommunicator(), resume: .auto)
        _ = try trainer.run()
        #expect(trainer.resumedFrom?.hasSuffix("step-00000008") == true && trainer.step == 12)
        let (after, metadata) = try SafeTensors.decode(
            Data(contentsOf: URL(fileURLWithPath: dir + "/model.safetensors")), name: run)
        #expect(metadata["format"] == "pt" && after[newName] != nil && after[oldName] == nil)
        if run == "resnet" {
            // Counted from 0 over the 4 steps of the resumed run.
            #expect(after["blocks.0.bn1.num_batches_tracked"]?.scalars == [4])
        }
    }

    /// A freeze prefix of the old recurrent names matches nothing now, and the message lists the new ones.
    @Test func oldRecurrentFreezePrefixIsAConfigError() throws {
        let path = Self.root.appendingPathComponent("Tests/LegacyRuns/lstm/config.yaml").path
        let config = try ConfigLoader.load(path: path, overrides: ["training.freeze=[recurrent.layers.0.]"])
        #expect {
            try Trainer(config: config, runDirectory: nil, communicator: SingleProcessCommunicator())
        } throws: {
            "\($0)".contains(
                "training.freeze has \"recurrent.layers.0.\", which matches no parameter of model lstm; its "
                    + "parameters start with embedding., recurrent., head.")
        }
        let frozen = try ConfigLoader.load(path: path, overrides: ["training.freeze=[recurrent.weight_ih_l0]"])
        _ = try Trainer(config: frozen, runDirectory: nil, communicator: SingleProcessCommunicator())
    }

    /// `tandem interop-outputs`' files: the inputs and the model's logits on them, as .npy.
    @Test func referenceOutputsAreTheModelsLogits() throws {
        let dir = NSTemporaryDirectory() + "tandem-legacy-\(UUID().uuidString)"
        try FileManager.default.copyItem(
            atPath: Self.root.appendingPathComponent("Tests/LegacyRuns/lstm").path, toPath: dir)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = try ReferenceOutputs.write(
            runDirectory: dir, weights: dir + "/model.safetensors", count: 5, to: dir + "/interop")
        #expect(files.map { ($0 as NSString).lastPathComponent } == ["inputs.npy", "logits.npy", "outputs.json"])
        let inputs = try NumpyArrayFile.open(dir + "/interop/inputs.npy")
        let logits = try NumpyArrayFile.open(dir + "/interop/logits.npy")
        #expect(inputs.elementType == .int32 && inputs.shape == [5, 6] && logits.shape == [5, 3])
        let (_, _, model) = try Int8ModelFile.loadRun(dir, weights: dir + "/model.safetensors")
        let ids = NDArray(indices: (0..<inputs.count).map { Int32(inputs.integer(at: $0)) }, shape: [5, 6])
        let expected = withNoGrad { (model as! SequenceClassifier).logits(ids).values.scalars }
        #expect((0..<logits.count).map { Float(logits.double(at: $0)) } == expected)
        let described =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: dir + "/interop/outputs.json"))) as! [String: Any]
        #expect(described["type"] as? String == "SequenceClassifier" && described["recurrent"] as? String == "lstm")
        #expect(described["input_shape"] as? [Int] == [6] && described["outputs"] as? [String] == ["logits"])
    }
}

/// Two linear layers sharing one weight tensor, as a language model ties its embedding and head.
final class TiedPair: Module {
    var training = true
    let encoder: Linear
    let decoder: Linear

    init() {
        encoder = Linear(3, 3)
        decoder = Linear(weight: encoder.weight, bias: Tensor(Init.zeros([3]), requiresGrad: true))
    }
}
