/// The dimensions of a contiguous row-major tensor, outermost first, e.g. `(B, T, C)`.
public struct Shape: Equatable, Hashable, Sendable, Codable, CustomStringConvertible, ExpressibleByArrayLiteral {
    public var dims: [Int]

    public init(_ dims: [Int]) {
        precondition(dims.allSatisfy { $0 >= 0 }, "Shape \(dims) has a negative dimension")
        self.dims = dims
    }
    public init(arrayLiteral elements: Int...) { self.init(elements) }

    public var rank: Int { dims.count }
    /// Number of elements (1 for a scalar of rank 0).
    public var count: Int { dims.reduce(1, *) }
    public subscript(i: Int) -> Int {
        get { dims[i < 0 ? i + dims.count : i] }
        set { dims[i < 0 ? i + dims.count : i] = newValue }
    }
    /// Row-major element strides.
    public var strides: [Int] {
        var s = [Int](repeating: 1, count: dims.count)
        var acc = 1
        for i in stride(from: dims.count - 1, through: 0, by: -1) { s[i] = acc; acc *= dims[i] }
        return s
    }
    public var description: String { "(" + dims.map(String.init).joined(separator: ", ") + ")" }

    /// Normalises a possibly negative axis; traps with a message naming the shape when out of range.
    public func axis(_ a: Int) -> Int {
        let r = a < 0 ? a + rank : a
        precondition(r >= 0 && r < rank, "axis \(a) is out of range for shape \(self)")
        return r
    }

    /// Splits the shape around `axis` into (outer, size of axis, inner) element counts.
    public func split(at axis: Int) -> (outer: Int, n: Int, inner: Int) {
        let a = self.axis(axis)
        return (dims[..<a].reduce(1, *), dims[a], dims[(a + 1)...].reduce(1, *))
    }

    /// The NumPy broadcast of two shapes, or nil if they are incompatible.
    public static func broadcast(_ a: Shape, _ b: Shape) -> Shape? {
        let r = max(a.rank, b.rank)
        var out = [Int](repeating: 1, count: r)
        for i in 0..<r {
            let da = i < r - a.rank ? 1 : a.dims[i - (r - a.rank)]
            let db = i < r - b.rank ? 1 : b.dims[i - (r - b.rank)]
            if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else { return nil }
        }
        return Shape(out)
    }
}
