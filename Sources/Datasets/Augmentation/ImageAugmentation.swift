/// Random transforms of training images, torchvision's, applied in this order to one float32
/// image (C, H, W): random crop with padding, random resized crop, horizontal flip, rotation,
/// brightness and contrast jitter (in a random order, as `ColorJitter`), random erasing.
///
/// Each transform is off at its default. The geometric ones and erasing work on any range of
/// values; brightness and contrast clamp to [0, 1], as torchvision does for float images, so
/// they expect pixels in [0, 1] (normalise afterwards, as `TransformedDataset` does).
/// Every random number comes from `SampleRandomness` (seed, epoch, sample index).
public struct ImageAugmentation: Codable, Equatable, Sendable {
    /// `random_crop_padding`: P > 0 zero-pads by P and crops the original size at a random
    /// offset in [0, 2P]² (`RandomCrop(size, padding=P)`); 0 is off.
    public var randomCropPadding = 0
    /// `random_resized_crop`: a random box resized to the original size (`RandomResizedCrop`); nil is off.
    public var randomResizedCrop: ResizedCrop?
    /// `horizontal_flip`: the probability of mirroring left to right (`RandomHorizontalFlip(p)`); 0 is off.
    public var horizontalFlip = 0.0
    /// `rotation_degrees`: d > 0 rotates by an angle uniform in [-d, d] (`RandomRotation(d)`, bilinear,
    /// zero fill); 0 is off.
    public var rotationDegrees = 0.0
    /// `brightness`: b > 0 scales pixels by a factor uniform in [max(0, 1 - b), 1 + b]; 0 is off.
    public var brightness = 0.0
    /// `contrast`: c > 0 blends with the mean grey level by a factor uniform in [max(0, 1 - c), 1 + c];
    /// 0 is off.
    public var contrast = 0.0
    /// `random_erasing`: the probability of zeroing a random box of 2% to 33% of the image with
    /// aspect ratio in [0.3, 3.3] (`RandomErasing(p, value=0)`); 0 is off.
    public var randomErasing = 0.0

    /// `random_resized_crop:` the ranges the box is drawn from.
    public struct ResizedCrop: Codable, Equatable, Sendable {
        /// `scale`: [low, high], the box's area as a fraction of the image's.
        public var scale: [Double]
        /// `ratio`: [low, high], the box's width / height.
        public var ratio: [Double]

        /// - Parameters:
        ///   - scale: [low, high] fraction of the area (torchvision's default [0.08, 1]).
        ///   - ratio: [low, high] aspect ratio (torchvision's default [3/4, 4/3]).
        public init(scale: [Double] = [0.08, 1], ratio: [Double] = [3.0 / 4, 4.0 / 3]) {
            (self.scale, self.ratio) = (scale, ratio)
        }

        /// Reads `scale` and `ratio`, each defaulting to torchvision's when absent.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let defaults = ResizedCrop()
            scale = try c.decodeIfPresent([Double].self, forKey: .scale) ?? defaults.scale
            ratio = try c.decodeIfPresent([Double].self, forKey: .ratio) ?? defaults.ratio
        }
    }

    /// Every transform off.
    public init() {}

    /// - Parameters:
    ///   - randomCropPadding: P for `RandomCrop(size, padding=P)`, 0 for off.
    ///   - randomResizedCrop: the box ranges, nil for off.
    ///   - horizontalFlip: flip probability.
    ///   - rotationDegrees: the largest angle in degrees.
    ///   - brightness: brightness jitter.
    ///   - contrast: contrast jitter.
    ///   - randomErasing: erasing probability.
    public init(
        randomCropPadding: Int = 0, randomResizedCrop: ResizedCrop? = nil, horizontalFlip: Double = 0,
        rotationDegrees: Double = 0, brightness: Double = 0, contrast: Double = 0, randomErasing: Double = 0
    ) {
        self.randomCropPadding = randomCropPadding
        self.randomResizedCrop = randomResizedCrop
        self.horizontalFlip = horizontalFlip
        self.rotationDegrees = rotationDegrees
        self.brightness = brightness
        self.contrast = contrast
        self.randomErasing = randomErasing
    }

    enum CodingKeys: String, CodingKey {
        case brightness, contrast
        case randomCropPadding = "random_crop_padding", randomResizedCrop = "random_resized_crop"
        case horizontalFlip = "horizontal_flip", rotationDegrees = "rotation_degrees"
        case randomErasing = "random_erasing"
    }

    /// Reads the keys present; an absent key leaves its transform off.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        randomCropPadding = try c.decodeIfPresent(Int.self, forKey: .randomCropPadding) ?? 0
        randomResizedCrop = try c.decodeIfPresent(ResizedCrop.self, forKey: .randomResizedCrop)
        horizontalFlip = try c.decodeIfPresent(Double.self, forKey: .horizontalFlip) ?? 0
        rotationDegrees = try c.decodeIfPresent(Double.self, forKey: .rotationDegrees) ?? 0
        brightness = try c.decodeIfPresent(Double.self, forKey: .brightness) ?? 0
        contrast = try c.decodeIfPresent(Double.self, forKey: .contrast) ?? 0
        randomErasing = try c.decodeIfPresent(Double.self, forKey: .randomErasing) ?? 0
    }

    /// Writes every key, `random_resized_crop` as null when off, so a resolved config shows them all.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(randomCropPadding, forKey: .randomCropPadding)
        try c.encode(randomResizedCrop, forKey: .randomResizedCrop)
        try c.encode(horizontalFlip, forKey: .horizontalFlip)
        try c.encode(rotationDegrees, forKey: .rotationDegrees)
        try c.encode(brightness, forKey: .brightness)
        try c.encode(contrast, forKey: .contrast)
        try c.encode(randomErasing, forKey: .randomErasing)
    }

    /// Whether every transform is off (the image passes through unchanged).
    public var isIdentity: Bool {
        randomCropPadding == 0 && randomResizedCrop == nil && horizontalFlip == 0 && rotationDegrees == 0
            && brightness == 0 && contrast == 0 && randomErasing == 0
    }

    /// The augmented image of sample `index` in `epoch`.
    /// - Parameters:
    ///   - image: (C, H, W); contrast needs C = 1 or 3 (`check(inputShape:inputType:)` says so).
    ///   - seed: the run's seed.
    ///   - epoch: the epoch (0-based).
    ///   - index: the sample's index in its dataset.
    public func apply(to image: PlanarImage, seed: UInt64, epoch: Int, index: Int) -> PlanarImage {
        let random = SampleRandomness(seed: seed, epoch: epoch, index: index)
        var x = image
        if randomCropPadding > 0 {
            var draws = random.stream(.crop)
            let top = draws.integer(below: 2 * randomCropPadding + 1)
            let left = draws.integer(below: 2 * randomCropPadding + 1)
            x = ImageTransforms.crop(x, padding: randomCropPadding, top: top, left: left)
        }
        if let box = randomResizedCrop {
            var draws = random.stream(.resizedCrop)
            let b = Self.resizedCropBox(height: x.height, width: x.width, scale: box.scale, ratio: box.ratio, &draws)
            x = ImageTransforms.resizedCrop(x, top: b.top, left: b.left, height: b.height, width: b.width)
        }
        if horizontalFlip > 0 {
            var draws = random.stream(.flip)
            if draws.unit() < horizontalFlip { x = ImageTransforms.flipHorizontally(x) }
        }
        if rotationDegrees > 0 {
            var draws = random.stream(.rotation)
            x = ImageTransforms.rotate(x, degrees: draws.uniform(-rotationDegrees, rotationDegrees))
        }
        if brightness > 0 || contrast > 0 {
            x = jitterColours(x, random.stream(.colour))
        }
        if randomErasing > 0 {
            var draws = random.stream(.erasing)
            if draws.unit() < randomErasing, let b = Self.erasingBox(height: x.height, width: x.width, &draws) {
                x = ImageTransforms.erase(x, top: b.top, left: b.left, height: b.height, width: b.width)
            }
        }
        return x
    }

    /// Brightness and contrast in a random order, as `ColorJitter` permutes its transforms.
    private func jitterColours(_ image: PlanarImage, _ stream: SampleRandomness.Draws) -> PlanarImage {
        var draws = stream
        let contrastFirst = draws.integer(below: 2) == 1
        let brightnessFactor = Float(draws.uniform(max(0, 1 - brightness), 1 + brightness))
        let contrastFactor = Float(draws.uniform(max(0, 1 - contrast), 1 + contrast))
        var x = image
        if brightness > 0 && !contrastFirst { x = ImageTransforms.adjustBrightness(x, factor: brightnessFactor) }
        if contrast > 0 { x = ImageTransforms.adjustContrast(x, factor: contrastFactor) }
        if brightness > 0 && contrastFirst { x = ImageTransforms.adjustBrightness(x, factor: brightnessFactor) }
        return x
    }
}
