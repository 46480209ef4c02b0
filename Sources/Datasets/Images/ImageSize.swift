/// An image size as height and width, the order of `data.image_size: [H, W]`.
public struct ImageSize: Equatable, Hashable, Sendable, CustomStringConvertible {
    public let height: Int
    public let width: Int

    /// - Parameters:
    ///   - height: rows, at least 1.
    ///   - width: columns, at least 1.
    public init(height: Int, width: Int) { (self.height, self.width) = (height, width) }

    /// "HxW", e.g. "28x28".
    public var description: String { "\(height)x\(width)" }
}
