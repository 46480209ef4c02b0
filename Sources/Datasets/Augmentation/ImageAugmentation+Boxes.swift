import Foundation

/// A rectangle of an image: first row and column, rows and columns.
typealias ImageBox = (top: Int, left: Int, height: Int, width: Int)

extension ImageAugmentation {
    /// Area fraction and aspect ratio ranges of `RandomErasing`'s box (torchvision's defaults).
    static let erasingScale = (0.02, 0.33), erasingRatio = (0.3, 3.3)

    /// `RandomResizedCrop.get_params`: up to 10 attempts at a box whose area is a `scale`
    /// fraction of the image and whose width / height is log-uniform in `ratio`; when none fits,
    /// the largest centred box with a ratio in range. Sizes round half to even, as Python does.
    /// - Parameters:
    ///   - height: H of the image.
    ///   - width: W of the image.
    ///   - scale: [low, high] area fraction.
    ///   - ratio: [low, high] width / height.
    ///   - draws: the sample's resized-crop stream.
    static func resizedCropBox(
        height: Int, width: Int, scale: [Double], ratio: [Double], _ draws: inout SampleRandomness.Draws
    ) -> ImageBox {
        let area = Double(height * width)
        let logRatio = (log(ratio[0]), log(ratio[1]))
        for _ in 0..<10 {
            let target = area * draws.uniform(scale[0], scale[1])
            let aspect = exp(draws.uniform(logRatio.0, logRatio.1))
            let w = roundHalfEven((target * aspect).squareRoot())
            let h = roundHalfEven((target / aspect).squareRoot())
            if w > 0 && w <= width && h > 0 && h <= height {
                let top = draws.integer(below: height - h + 1), left = draws.integer(below: width - w + 1)
                return (top, left, h, w)
            }
        }
        let imageRatio = Double(width) / Double(height)
        var (h, w) = (height, width)
        // At least one row and column: torchvision would return an empty box for an image far
        // narrower than the ratio range allows.
        if imageRatio < ratio.min()! {
            h = max(1, roundHalfEven(Double(width) / ratio.min()!))
        } else if imageRatio > ratio.max()! {
            w = max(1, roundHalfEven(Double(height) * ratio.max()!))
        }
        return ((height - h) / 2, (width - w) / 2, h, w)
    }

    /// `RandomErasing.get_params`: up to 10 attempts at a box of 2% to 33% of the image with
    /// height / width log-uniform in [0.3, 3.3] and both sides smaller than the image's; nil
    /// (erase nothing) when none fits.
    /// - Parameters:
    ///   - height: H of the image.
    ///   - width: W of the image.
    ///   - draws: the sample's erasing stream, after its probability draw.
    static func erasingBox(height: Int, width: Int, _ draws: inout SampleRandomness.Draws) -> ImageBox? {
        let area = Double(height * width)
        let logRatio = (log(erasingRatio.0), log(erasingRatio.1))
        for _ in 0..<10 {
            let target = area * draws.uniform(erasingScale.0, erasingScale.1)
            let aspect = exp(draws.uniform(logRatio.0, logRatio.1))
            let h = roundHalfEven((target * aspect).squareRoot())
            let w = roundHalfEven((target / aspect).squareRoot())
            guard h < height && w < width else { continue }
            let top = draws.integer(below: height - h + 1), left = draws.integer(below: width - w + 1)
            return (top, left, h, w)
        }
        return nil
    }

    /// Python's `int(round(x))` for x >= 0.
    static func roundHalfEven(_ x: Double) -> Int { Int(x.rounded(.toNearestOrEven)) }
}
