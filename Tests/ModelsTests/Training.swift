import Datasets
import Models
import NN
import Optim

/// Adam steps on the batches `batch(step)` gives, through the model's own loss.
/// - Returns: the loss of the first and of the last step.
@discardableResult
func trainWithAdam(
    _ model: any TrainableModel, learningRate: Float, beta1: Float = 0.9, steps: Int,
    _ batch: (Int) -> Batch
) -> (first: Float, last: Float) {
    let arena = model.flattenParameters()
    let adam = Adam(arena, learningRate: learningRate, beta1: beta1)
    var first: Float = 0, last: Float = 0
    for step in 0..<steps {
        let b = batch(step)
        let loss = model.loss(inputs: b.inputs, targets: b.flatTargets, labelSmoothing: 0)
        arena.zeroGrad()
        loss.backward()
        adam.step()
        if step == 0 { first = loss.item }
        last = loss.item
    }
    return (first, last)
}

/// Consecutive batches of `size` from the first `samples` of `data`, wrapping around.
func cycling(_ data: any Dataset, samples: Int, size: Int) -> (Int) -> Batch {
    { step in
        let lo = (step * size) % samples
        return data.batch(ArraySlice(lo..<(lo + size)))
    }
}

/// How many of the batch's targets are the model's most likely class, in evaluation mode.
func correctPredictions(_ model: any Classifier, on batch: Batch) -> Int {
    model.eval()
    defer { model.train() }
    let predicted = withNoGrad { model.logits(batch.inputs).argmax(axis: 1) }
    let targets = batch.flatTargets
    return (0..<targets.count).filter { predicted.int32Pointer[$0] == targets.int32Pointer[$0] }.count
}
