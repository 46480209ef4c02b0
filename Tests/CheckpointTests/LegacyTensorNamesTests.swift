import Checkpoint
import Testing
import TensorCore

/// Old model-file names read as the current ones where no model is built (`tandem export`).
@Suite("Names of files written before PyTorch names")
struct LegacyTensorNamesTests {
    @Test func oldNamesMapToPyTorchs() {
        #expect(LegacyTensorNames.current("recurrent.layers.1.weightIH") == "recurrent.weight_ih_l1")
        #expect(LegacyTensorNames.current("3.layers.0.biasHH") == "3.bias_hh_l0")
        #expect(LegacyTensorNames.current("layers.2.weightHH") == "weight_hh_l2")
        #expect(LegacyTensorNames.current("blocks.0.bn1.runningMean") == "blocks.0.bn1.running_mean")
        #expect(LegacyTensorNames.current("runningVar") == "running_var")
        for kept in ["hidden.layers.0.weight", "stem.layers.1.running_mean", "recurrent.weight_ih_l0", "head.bias"] {
            #expect(LegacyTensorNames.current(kept) == kept)
        }
    }

    /// Order kept, a zero int64 counter after each renamed `running_var`, a current name kept
    /// over its old spelling, and a current file left as it is.
    @Test func upgradedAddsCountersAndKeepsOrder() {
        let a = NDArray([1, 2], shape: [2]), b = NDArray([3, 4], shape: [2])
        let (tensors, old) = LegacyTensorNames.upgraded([
            ("bn.weight", a), ("bn.runningMean", a), ("bn.runningVar", b), ("head.weight", b),
        ])
        #expect(old == 2)
        let names = ["bn.weight", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked", "head.weight"]
        #expect(tensors.map(\.0) == names)
        #expect(tensors[3].1.dtype == .int64 && tensors[3].1.shape.dims == [] && tensors[3].1.scalars == [0])
        let both = LegacyTensorNames.upgraded([("bn.running_mean", a), ("bn.runningMean", b)])
        #expect(both.tensors.map(\.0) == ["bn.running_mean"] && both.tensors[0].1.scalars == [1, 2])
        let current = [("x.running_var", a), ("x.num_batches_tracked", NDArray(shape: [], dtype: .int64))]
        let same = LegacyTensorNames.upgraded(current)
        #expect(same.oldNames == 0 && same.tensors.map(\.0) == current.map(\.0))
    }
}
