import Testing
@testable import TensorCore

/// What a failed allocation says: the size, the tensor and the advice, and sizes that
/// overflow an Int counted as failures rather than trapping.
@Suite("Allocation failures")
struct AllocationFailureTests {
    @Test func sizesThatOverflowAreNotCounted() {
        #expect(AllocationFailure.byteCount([3, 5], elementSize: 4) == 60)
        #expect(AllocationFailure.byteCount([], elementSize: 2) == 2)
        #expect(AllocationFailure.byteCount([1 << 40, 1 << 40], elementSize: 4) == nil)
        #expect(AllocationFailure.byteCount([1 << 61], elementSize: 4) == nil)
        #expect(AllocationFailure.byteCount([4, -1], elementSize: 4) == nil)
    }

    @Test func theMessageNamesSizeTensorAndFix() {
        let mlp = AllocationFailure.Context(what: "the parameters of model mlp", fix: "lower model.hidden_sizes")
        let labelled = AllocationFailure(
            bytes: 4_000_000_000_000, shape: [1_000_000_000, 1000], dtype: .float32,
            context: mlp)
        #expect(
            "\(labelled)" == "cannot allocate 3.64 TiB (4000000000000 bytes) for a float32 tensor of shape "
                + "(1000000000, 1000) (the parameters of model mlp): out of memory; lower model.hidden_sizes")
        let bare = AllocationFailure(bytes: nil, shape: [1 << 40, 1 << 40], dtype: .bfloat16, context: nil)
        #expect(
            "\(bare)" == "cannot allocate more than 8.0 EiB (9223372036854775807 bytes) for a bfloat16 tensor "
                + "of shape (1099511627776, 1099511627776): out of memory; lower data.batch_size or the model's sizes")
        #expect(
            "\(AllocationFailure(bytes: 100, shape: nil, dtype: nil, context: nil))"
                == "cannot allocate 100 bytes for a tensor: out of memory; lower data.batch_size or the model's sizes")
    }

    /// The label holds while its body runs and is put back after, also when the body throws.
    @Test func theLabelIsScoped() throws {
        struct Failed: Error {}
        #expect(throws: Failed.self) {
            try AllocationFailure.labeled("outer", fix: "lower a") { throw Failed() }
        }
        let inner = AllocationFailure.labeled("outer", fix: "lower a") {
            AllocationFailure.labeled("inner", fix: "lower b") { AllocationFailure.currentContext?.what }
        }
        #expect(inner == "inner" && AllocationFailure.currentContext == nil)
    }
}
