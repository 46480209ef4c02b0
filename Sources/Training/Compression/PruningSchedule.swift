/// The gradual pruning schedule of Zhu and Gupta (2017, eq. 1): from s_i at step t0 to s_f at
/// t_end along s_t = s_f + (s_i - s_f)(1 - (t - t0)/(t_end - t0))³, recomputing the masks
/// every Δt steps. It prunes fast while the network has many redundant weights and slowly
/// as few are left, and holds s_f after t_end (the fine-tuning that follows).
public struct PruningSchedule: Equatable, Sendable {
    public let initial: Double, final: Double
    public let start: Int, end: Int, every: Int

    /// - Parameters:
    ///   - initial: s_i, the sparsity at the start.
    ///   - final: s_f, the sparsity at the end.
    ///   - start: t0, in optimizer steps.
    ///   - end: t_end, in optimizer steps; equal to start for one-shot pruning.
    ///   - every: Δt.
    public init(initial: Double, final: Double, start: Int, end: Int, every: Int) {
        precondition(
            0 <= initial && initial <= final && final < 1 && start <= end && every >= 1, "invalid pruning schedule")
        (self.initial, self.final, self.start, self.end, self.every) = (initial, final, start, end, every)
    }

    /// The target sparsity when `step` optimizer steps have been taken.
    public func sparsity(at step: Int) -> Double {
        guard step >= start else { return 0 }
        guard step < end else { return final }
        let progress = Double(step - start) / Double(end - start)
        return final + (initial - final) * (1 - progress) * (1 - progress) * (1 - progress)
    }

    /// Whether the masks are recomputed before the step that follows `step` steps: every Δt
    /// steps from t0, and at t_end itself.
    public func updates(at step: Int) -> Bool {
        step >= start && step <= end && ((step - start) % every == 0 || step == end)
    }
}
