/// `distillation:` trains the model (the student) to match a trained teacher's softened
/// outputs as well as the labels (Hinton, Vinyals and Dean, 2015).
public struct DistillationConfig: Codable, Equatable, Sendable {
    /// The teacher's run directory (config.yaml and model.safetensors); null: no distillation.
    /// It must be a classifier trained on the same data; every rank reads it.
    public var teacher: String?
    /// T: both logits are divided by it before the softmax; the soft term is scaled by T² so
    /// its gradients keep their size as T changes.
    public var temperature = 4.0
    /// The weight of the soft term; 1 - alpha weighs the cross-entropy with the labels.
    public var alpha = 0.9

    public init() {}

    func validate(_ v: inout ConfigValidator) {
        v.require(temperature > 0 && temperature.isFinite, "distillation.temperature", temperature, "a positive number")
        v.require(alpha >= 0 && alpha <= 1, "distillation.alpha", alpha, "0 <= alpha <= 1")
    }
}
