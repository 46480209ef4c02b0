import Foundation
import TensorCore

/// The fixed sinusoidal position encoding of Vaswani et al. (2017, section 3.5):
/// PE(pos, 2i) = sin(pos / 10000^(2i/C)), PE(pos, 2i+1) = cos(pos / 10000^(2i/C)).
public enum PositionalEncoding {
    /// - Parameters:
    ///   - positions: T.
    ///   - width: C.
    /// - Returns: (T, C).
    public static func sinusoidal(positions: Int, width: Int) -> NDArray {
        var table = [Float](repeating: 0, count: positions * width)
        for pos in 0..<positions {
            for i in stride(from: 0, to: width, by: 2) {
                let angle = Double(pos) / pow(10000, Double(i) / Double(width))
                table[pos * width + i] = Float(sin(angle))
                if i + 1 < width { table[pos * width + i + 1] = Float(cos(angle)) }
            }
        }
        return NDArray(table, shape: [positions, width])
    }
}
