import Autograd
import Datasets
import Models
import NN

/// Knowledge distillation (Hinton, Vinyals and Dean, 2015): the student learns from the
/// teacher's softened class probabilities as well as from the labels,
/// loss = α·T²·KL(softmax(t/T) ‖ softmax(s/T)) + (1 - α)·CE(s, y).
///
/// Each rank runs the teacher on its own shard of the batch, so distillation is as
/// data-parallel as training; the teacher's weights never change.
public struct Distillation {
    public let teacher: any Classifier
    public let temperature: Float, alpha: Float

    /// Loads the teacher the config names (every rank reads it, as `model.score_classifier`).
    /// - Parameters:
    ///   - config: `distillation:` with a teacher.
    ///   - student: the run's config (the teacher must have been trained on the same data).
    ///   - data: the training split, which sizes the teacher.
    public init(config: DistillationConfig, student: TrainConfig, data: any Dataset) throws {
        let (teacher, teacherConfig) = try TrainedClassifier.load(
            runDirectory: config.teacher!, data: data, key: "distillation.teacher")
        let (a, b) = (teacherConfig.data, student.data)
        guard a.name == b.name, a.normalize == b.normalize, a.targets == b.targets, a.context == b.context else {
            throw ConfigError(
                "distillation.teacher \(config.teacher!) was trained on data.name \(a.name) (normalize \(a.normalize), "
                    + "targets \(a.targets), context \(a.context)) but this run reads \(b.name) (normalize \(b.normalize), targets "
                    + "\(b.targets), context \(b.context)); the teacher must see the inputs the student sees")
        }
        self.teacher = teacher
        (temperature, alpha) = (Float(config.temperature), Float(config.alpha))
    }

    /// The distillation loss of one batch.
    /// - Parameters:
    ///   - student: the model being trained.
    ///   - inputs: the batch's inputs.
    ///   - targets: the batch's targets.
    ///   - labelSmoothing: for the hard term.
    /// - Returns: the loss to minimise, and its soft (KL, before α·T²) and hard (cross-entropy) terms.
    public func loss(student: any Classifier, inputs: NDArray, targets: NDArray, labelSmoothing: Float) -> (
        loss: Tensor, soft: Double, hard: Double
    ) {
        let logits = student.logits(inputs)
        let teacherLogits = withNoGrad { teacher.logits(inputs).values }
        let soft = Loss.distillationKL(logits, teacher: teacherLogits, temperature: temperature)
        let hard = Loss.crossEntropy(logits, targets, labelSmoothing: labelSmoothing)
        let loss = soft * (alpha * temperature * temperature) + hard * (1 - alpha)
        return (loss, Double(soft.item), Double(hard.item))
    }
}
