import Autograd

/// An update rule over the flat parameter arena.
///
/// Optimizers see only the arena (a flat list of named parameters), never a Module. Each one
/// folds the arena's `gradientScale` (1/world, clipping) into the pass it makes anyway.
public protocol Optimizer: AnyObject {
    var arena: ParameterArena { get }
    /// The learning rate of the next step; schedules set it before every step.
    var learningRate: Float { get set }
    /// The momentum a one-cycle schedule cycles: SGD's and RMSprop's momentum, Adam's beta1.
    var cycledMomentum: Float { get set }
    /// The parameter groups with their weight decay.
    var groups: ParameterGroups { get }
    /// Applies one update to every parameter from the current gradients.
    func step()
    /// Limits every later step to the arena elements in `ranges`, and its state arrays to
    /// those elements: this rank's shard when the optimizer is sharded over ranks (ZeRO stage
    /// 1), which updates only the parameters whose summed gradients it holds and keeps only
    /// their moments. Call it once, before loading state.
    /// - Parameter ranges: sorted, disjoint ranges of arena elements.
    func restrictUpdates(to ranges: [Range<Int>])
    /// Named state arrays (moments, momentum buffers) in the arena's layout, and scalars (step
    /// count), for checkpoints. A restricted optimizer's arrays are expanded into fresh ones,
    /// zero outside its shard (the ranks gather the rest); otherwise they are its own.
    var state: [String: NDArray] { get }
    /// Restores what `state` returned (from a checkpoint, in the arena's layout); names it
    /// does not know are errors.
    func load(state: [String: NDArray]) throws
}

/// A checkpoint's optimizer state that does not fit this optimizer.
public struct OptimizerStateError: Error, CustomStringConvertible {
    public let description: String
}

extension Optimizer {
    /// Copies a state array in the arena's layout (as `state` gives it and checkpoints hold it)
    /// into `target`, this optimizer's own array (the whole arena, or its shard's elements),
    /// after checking the size, naming the state on mismatch.
    func restore(_ name: String, _ array: NDArray, into target: NDArray) throws {
        guard array.count == arena.capacity, array.dtype == target.dtype else {
            throw OptimizerStateError(
                description: "optimizer state \(name) has \(array.count) \(array.dtype) values; this optimizer "
                    + "needs \(arena.capacity) \(target.dtype) (the checkpoint was saved from a different model)")
        }
        target.assign(groups.compact(array.reshaped([arena.capacity])))
    }

    /// Fails on names this optimizer does not keep.
    func checkNames(_ state: [String: NDArray], allowed: Set<String>) throws {
        let unknown = Set(state.keys).subtracting(allowed)
        guard unknown.isEmpty else {
            throw OptimizerStateError(
                description: "optimizer state \(unknown.sorted().joined(separator: ", ")) does not belong to "
                    + "\(type(of: self)) (it keeps \(allowed.sorted().joined(separator: ", "))); was the checkpoint saved with another optimizer?"
            )
        }
    }
}

/// The sign of `x` (0 at 0), the subgradient of |x| that L1 regularisation adds.
@inline(__always)
func signum(_ x: Float) -> Float { x > 0 ? 1 : x < 0 ? -1 : 0 }
