import TensorCore

extension ImageAugmentation {
    /// Largest `random_crop_padding`: more only adds zeros and risks overflowing the offsets.
    public static let maximumPadding = 4096

    /// Every value out of range, one message each, naming its key under `keyPath` and what is allowed.
    /// - Parameter keyPath: where the augmentation sits in the config, e.g. `data.augment`.
    public func problems(keyPath: String) -> [String] {
        var found: [String] = []
        func require(_ ok: Bool, _ key: String, _ value: Any, _ allowed: String) {
            if !ok { found.append("\(keyPath).\(key) is \(value); allowed: \(allowed)") }
        }
        require(
            randomCropPadding >= 0 && randomCropPadding <= Self.maximumPadding, "random_crop_padding",
            randomCropPadding, "0 (off) to \(Self.maximumPadding) pixels")
        if let box = randomResizedCrop {
            let (scale, ratio) = (box.scale, box.ratio)
            require(
                scale.count == 2 && scale[0] > 0 && scale[0] <= scale[1] && scale[1] <= 1,
                "random_resized_crop.scale", scale, "[low, high] with 0 < low <= high <= 1 (torchvision: [0.08, 1.0])")
            require(
                ratio.count == 2 && ratio[0] > 0 && ratio[0] <= ratio[1] && ratio[1].isFinite,
                "random_resized_crop.ratio", ratio,
                "[low, high] with 0 < low <= high, finite (torchvision: [0.75, 1.3333])")
        }
        let probability = "a probability from 0 (off) to 1"
        require(horizontalFlip >= 0 && horizontalFlip <= 1, "horizontal_flip", horizontalFlip, probability)
        require(
            rotationDegrees >= 0 && rotationDegrees <= 180, "rotation_degrees", rotationDegrees,
            "0 (off) to 180 degrees")
        let jitter = "a finite number >= 0 (0 is off; the factor is uniform in [max(0, 1 - x), 1 + x])"
        require(brightness >= 0 && brightness.isFinite, "brightness", brightness, jitter)
        require(contrast >= 0 && contrast.isFinite, "contrast", contrast, jitter)
        require(randomErasing >= 0 && randomErasing <= 1, "random_erasing", randomErasing, probability)
        return found
    }

    /// Throws unless the transforms can apply to samples of this shape and type.
    /// - Parameters:
    ///   - inputShape: one sample's shape; augmentation needs (C, H, W).
    ///   - inputType: the samples' element type; augmentation needs float32.
    /// - Throws: `DatasetError` naming the mismatch and the fix.
    public func check(inputShape: Shape, inputType: DType) throws {
        guard inputType == .float32, inputShape.rank == 3 else {
            throw DatasetError(
                "augmentation needs float32 images of shape (C, H, W), but the samples are \(inputType) "
                    + "of shape \(inputShape); augment only image data, or remove data.augment")
        }
        let channels = inputShape[0]
        guard contrast == 0 || channels == 1 || channels == 3 else {
            throw DatasetError(
                "contrast jitter needs grey (1 channel) or RGB (3 channel) images, but the samples have "
                    + "\(channels) channels, shape \(inputShape); convert the images to 1 or 3 channels, "
                    + "or set contrast to 0")
        }
    }
}
