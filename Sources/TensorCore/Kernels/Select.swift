/// Selection by mask: where and masked fill, with their backward passes.
///
/// Masks are float arrays where any non-zero element means true, so they can come from
/// comparisons computed by other kernels.
public enum Select {
    /// out = cond ? a : b, all three of one shape.
    public static func whereForward(_ cond: NDArray, _ a: NDArray, _ b: NDArray) -> NDArray {
        Unary.zip3(cond, a, b) { c, x, y in c != 0 ? x : y }
    }

    /// (da, db) = (cond ? dy : 0, cond ? 0 : dy).
    public static func whereBackward(_ dy: NDArray, _ cond: NDArray) -> (NDArray, NDArray) {
        (Unary.zip(cond, dy) { c, g in c != 0 ? g : 0 }, Unary.zip(cond, dy) { c, g in c != 0 ? 0 : g })
    }

    /// out = mask ? value : x, mask of x's shape.
    public static func maskedFillForward(_ x: NDArray, mask: NDArray, value: Float) -> NDArray {
        Unary.zip(mask, x) { m, v in m != 0 ? value : v }
    }

    /// dx = mask ? 0 : dy.
    public static func maskedFillBackward(_ dy: NDArray, mask: NDArray) -> NDArray {
        Unary.zip(mask, dy) { m, g in m != 0 ? 0 : g }
    }
}
