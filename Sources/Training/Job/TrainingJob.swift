import CSupport
import Collective
import Datasets
import Foundation
import Models
import NN

/// One training job on this process, alone or as one rank under mpirun: what `tandem train` runs,
/// and what a program of your own runs around its model and data.
///
/// It starts the world (MPI when launched by mpirun), checks that every rank has the same config,
/// installs the stop signals' handlers, builds the trainer, trains, prints the final line, and
/// ends MPI. A mistake in the config ends every rank with status 2 and a failure with status 1,
/// said once, so no rank is left waiting; a stop by SIGTERM, SIGINT or SIGUSR1 checkpoints and
/// returns status 75. MPI is ended when `run` returns: a process runs one job.
public struct TrainingJob {
    /// The exit status of a run stopped by a signal after its checkpoint (sysexits' EX_TEMPFAIL:
    /// try again later, which is what a scheduler's requeue does).
    public static let preemptedExitCode: Int32 = 75

    /// What a job ends with.
    public struct Outcome {
        /// The run's result on this rank.
        public let result: TrainResult
        /// The status the process should exit with: 0, or 75 after a stop by a signal.
        public let exitStatus: Int32
    }

    public var config: TrainConfig
    /// Where rank 0 writes the run.
    public var runDirectory: String
    /// A checkpoint to continue from (nil: a fresh start).
    public var resume: ResumeSource?
    /// Your own metrics, measured at every evaluation.
    public var metrics: [any EvaluationMetric]
    /// How messages name the program ("tandem train").
    public var command: String

    /// - Parameters:
    ///   - config: the run's settings.
    ///   - runDirectory: where rank 0 writes the run.
    ///   - resume: a checkpoint to continue from.
    ///   - metrics: your own metrics (for a model built in code).
    ///   - command: how messages name the program (default: the executable's name).
    public init(
        config: TrainConfig, runDirectory: String, resume: ResumeSource? = nil, metrics: [any EvaluationMetric] = [],
        command: String = (CommandLine.arguments.first.map { ($0 as NSString).lastPathComponent } ?? "tandem")
    ) {
        (self.config, self.runDirectory, self.resume, self.metrics) = (config, runDirectory, resume, metrics)
        self.command = command
    }

    /// Trains the registered model `model.name` on the data `data:` names, as `tandem train` does.
    public func run() -> Outcome {
        run { comm in try Trainer(config: config, runDirectory: runDirectory, communicator: comm, resume: resume) }
    }

    /// Trains your model on your data.
    /// - Parameters:
    ///   - data: builds the splits, on every rank (each rank reads only its shard of each batch).
    ///   - model: builds the model for the splits, on every rank, after the seed is set from
    ///     `config.seed` (rank 0's weights are broadcast anyway).
    public func run(
        data: (TrainConfig) throws -> DataSplits, model: (TrainConfig, DataSplits) throws -> any TrainableModel
    ) -> Outcome {
        run { comm in
            Trainer.configureThreads(config)
            let splits = try data(config)
            Init.seed(UInt64(config.seed))
            return try Trainer(
                config: config, model: model(config, splits), data: splits, runDirectory: runDirectory,
                communicator: comm, resume: resume, metrics: metrics)
        }
    }

    /// Starts the world, builds the trainer with `build`, trains and reports.
    private func run(_ build: (Communicator) throws -> Trainer) -> Outcome {
        let comm: Communicator =
            MPICommunicator.launchedByMPI
            ? MPICommunicator(startupTimeout: config.distributed.startupTimeoutSeconds) : SingleProcessCommunicator()
        JobFailure.reportAllocationFailures(comm, command: command)
        JobFailure.requireSameConfig(comm, config, command: command)
        if let problem = WorldSizeCheck.problem(config, worldSize: comm.size) {
            JobFailure.endTogether(comm, "\(command): \(ConfigError(problem))", status: 2)
        }
        tandem_install_stop_handlers()
        let result: TrainResult
        do {
            result = try build(comm).run()
        } catch let error as ConfigError {
            // Config errors found while the trainer is built (pruning, distillation, init_from)
            // come from the config every rank shares: said once, with the config status.
            JobFailure.endTogether(comm, "\(command): \(error)", status: 2)
        } catch {
            JobFailure.fail(comm, "\(command): \(JobFailure.text(error))")
        }
        let recorded = comm.rank == 0 ? report(result) : false
        if result.stoppedBySignal != nil && tandem_launcher_ending() != 0 {
            // mpirun is ending the job and its runtime no longer answers: MPI_Finalize would only
            // wait for its SIGKILL. The checkpoint is whole, so leave now with the stop's status.
            fflush(stdout)
            Foundation.exit(Self.preemptedExitCode)
        }
        (comm as? MPICommunicator)?.finalize()
        guard result.stoppedBySignal != nil else { return Outcome(result: result, exitStatus: 0) }
        // A rank that exits non-zero while others still run makes mpirun end them with its
        // SIGCONT/SIGTERM/SIGKILL sequence and its waits (long under the launch scripts). When
        // the launcher reads the status from the file, the ranks leave with 0 and it reports 75.
        if ExitStatusFile.path != nil && (comm.rank != 0 || recorded) { Foundation.exit(0) }
        return Outcome(result: result, exitStatus: Self.preemptedExitCode)
    }

    /// Rank 0's last lines: the final metrics, the run directory, and how to resume after a stop.
    /// - Returns: whether the stop's exit status was recorded in TANDEM_EXIT_STATUS_FILE.
    private func report(_ result: TrainResult) -> Bool {
        if let m = result.final {
            let figures =
                if let r = m.regression {
                    String(format: "r2 %.4f, rmse %.4f, mae %.4f (loss %.4f)", r.r2, r.rmse, r.mae, m.loss)
                } else if m.isClassification {
                    String(format: "accuracy %.4f (loss %.4f)", m.accuracy, m.loss)
                } else {
                    String(format: "loss %.4f", m.loss)
                        + (m.classifierScore.map { String(format: ", classifier score %.3f", $0) } ?? "")
                }
            print(
                String(
                    format: "%@ %@ after %d steps%@", result.finalSplit, figures, result.steps,
                    result.stoppedEarly ? ", stopped early" : ""))
        }
        let run = result.runDirectory ?? runDirectory
        print("run directory: \(run)")
        guard let signal = result.stoppedBySignal else { return false }
        let name = Self.name(ofStopSignal: signal)
        print("stopped by signal \(signal) (\(name)) after step \(result.steps); resume with: tandem resume \(run)")
        return ExitStatusFile.record(
            Self.preemptedExitCode,
            reason: "stopped by signal \(signal) (\(name)) after step \(result.steps) with a whole checkpoint in \(run)"
        )
    }

    /// A stop signal's name, and for SIGCONT who sent it.
    /// - Parameter signal: the signal number that stopped the run.
    static func name(ofStopSignal signal: Int32) -> String {
        switch signal {
        case SIGTERM: return "SIGTERM"
        case SIGINT: return "SIGINT"
        case SIGUSR1: return "SIGUSR1"
        case SIGCONT: return "SIGCONT: mpirun was sent SIGTERM or SIGINT and is ending the job"
        default: return "signal \(signal)"
        }
    }
}
