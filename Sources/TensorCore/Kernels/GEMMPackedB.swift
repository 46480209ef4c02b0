#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A GEMM's B operand packed once into the micro-panel layout, for a B that many products
/// share: an LSTM's W_hh is multiplied at every step of the sequence, and repacking its
/// 1 MB each time was a tenth of the char-LSTM step.
///
/// Layout: for every depth block (as `GEMMPlan.depthBlock` cuts k), all of B's 16-column
/// micro-panels in order, each `panelStride` floats; a `GEMM.gemm` given this skips packing
/// and reads block (pc, jc) in place.
public final class GEMMPackedB {
    /// op(B)'s shape, (k, n).
    public let k: Int, n: Int
    /// The depth of the blocks k is cut into, and the floats from one panel to the next.
    let depthBlock: Int, panelStride: Int
    let panelCount: Int
    let data: UnsafeMutablePointer<Float>

    /// Packs op(B) (k, n).
    /// - Parameters:
    ///   - transB: use Bᵀ, where B is stored (n, k) with row stride `b.ld`.
    ///   - k: rows of op(B).
    ///   - n: columns of op(B).
    ///   - b: the operand (any float type; 16-bit values are widened as they are packed).
    public init(transB: Bool, k: Int, n: Int, b: GEMMOperand) {
        precondition(k > 0 && n > 0, "a packed B needs k and n of at least 1, got k \(k), n \(n)")
        let nr = GEMMMicroKernel.nr
        (self.k, self.n) = (k, n)
        depthBlock = GEMMPlan.depthBlock(k)
        panelStride = depthBlock * nr
        panelCount = (n + nr - 1) / nr
        let blocks = (k + depthBlock - 1) / depthBlock
        var p: UnsafeMutableRawPointer?
        precondition(
            posix_memalign(&p, 64, blocks * panelCount * panelStride * 4) == 0,
            "out of memory for a packed GEMM operand")
        data = p!.assumingMemoryBound(to: Float.self)
        let view = b.view(transposed: transB)
        let (depth, panels, stride) = (depthBlock, panelCount, panelStride)
        // Panels are independent: the threads split them.
        ThreadPool.shared.parallelFor(blocks * panels, grain: max(1, 64 * 1024 / (depth * nr))) { range in
            for index in range {
                let (block, panel) = index.quotientAndRemainder(dividingBy: panels)
                let pc = block * depth
                GEMMPacking.packB(
                    view, pc: pc, kc: min(depth, k - pc), jc: 0, nc: n, panels: panel..<(panel + 1),
                    panelStride: stride, into: self.data + block * panels * stride)
            }
        }
    }

    /// The packed panels of B[pc..<pc+kc, jc..<jc+nc] (`jc` a multiple of 16), laid out as
    /// `GEMMPacking.packB` lays out one block.
    func block(pc: Int, jc: Int) -> UnsafeMutablePointer<Float> {
        data + ((pc / depthBlock) * panelCount + jc / GEMMMicroKernel.nr) * panelStride
    }

    deinit { free(data) }
}
