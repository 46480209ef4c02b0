import Foundation
import Testing

/// `tandem inspect-model` as a user runs it: the table on stdout, or the message and exit status 2.
extension MPIJobs {
    @Suite("tandem inspect-model", .serialized)
    struct InspectModelCommandTests {
        static let configs = packageRoot + "/configs"

        static func inspect(_ arguments: [String]) throws -> MPIRun {
            try MPIRun.launch(
                TrainEndToEndTests.tandem, ["inspect-model"] + arguments, environment: ["TANDEM_NUM_THREADS": "1"],
                timeout: 120)
        }

        /// The YAML-declared CNN on Fashion-MNIST: its rows and total.
        @Test func printsTheTableOfADeclaredModel() throws {
            let run = try Self.inspect([Self.configs + "/cnn_sequential_fmnist.yaml"])
            #expect(run.status == 0, "\(run.stderr)")
            let lines = run.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first == "input [1, 1, 28, 28] float32")
            #expect(
                lines.contains { $0.contains("block1  ") && $0.contains("Residual") && $0.contains("[1, 16, 14, 14]") })
            #expect(lines.contains { $0.contains("head  ") && $0.contains("[1, 10]") && $0.hasSuffix("15,690") })
            #expect(lines.contains("Total parameters: 43,770 (171.0 KiB as float32)"))
        }

        /// A built-in model, with an override.
        @Test func printsTheTableOfABuiltInModel() throws {
            let run = try Self.inspect([Self.configs + "/mlp_fmnist.yaml", "--set", "model.hidden_sizes=[32]"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains("Total parameters: 25,450 (99.4 KiB as float32)"))
            #expect(
                run.stdout.split(separator: "\n").contains {
                    $0.contains("hidden.1") && $0.contains("ActivationLayer(relu)")
                })
        }

        /// A shape mistake is the config error, with status 2 and nothing on stdout.
        @Test func badModelExitsWithStatus2() throws {
            let shape = try Self.inspect([
                Self.configs + "/cnn_sequential_fmnist.yaml", "--set",
                "model.layers=[flatten, {conv: {out: 4, kernel: 3}}]",
            ])
            #expect(shape.status == 2)
            #expect(shape.stdout.isEmpty)
            #expect(
                shape.stderr.contains(
                    "tandem inspect-model: config error: model.layers[1] conv needs (channels, height, width) "
                        + "but gets (784)"
                ),
                "\(shape.stderr)")
        }
    }
}
