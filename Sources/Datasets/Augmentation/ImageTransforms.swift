import Foundation

/// The deterministic image operations behind `ImageAugmentation`, each with its parameters
/// explicit (the random draws live in `ImageAugmentation`), defined as torchvision's
/// functional transforms on float tensors.
enum ImageTransforms {
    /// The image zero-padded by `padding` on every side, then cropped to its own size at
    /// (`top`, `left`) of the padded image (torchvision `RandomCrop(size, padding)`).
    /// - Parameters:
    ///   - image: (C, H, W).
    ///   - padding: P, zeros added on each side.
    ///   - top: row of the padded image where the crop starts, in 0...2P.
    ///   - left: column of the padded image where the crop starts, in 0...2P.
    static func crop(_ image: PlanarImage, padding: Int, top: Int, left: Int) -> PlanarImage {
        var out = PlanarImage(zerosWithChannels: image.channels, height: image.height, width: image.width)
        // Output (y, x) reads padded (y + top, x + left), which is input (y + top - P, x + left - P).
        let dy = top - padding, dx = left - padding
        let rows = max(0, -dy)..<min(image.height, image.height - dy)
        let cols = max(0, -dx)..<min(image.width, image.width - dx)
        guard !rows.isEmpty, !cols.isEmpty else { return out }
        for c in 0..<image.channels {
            for y in rows {
                for x in cols { out[c, y, x] = image[c, y + dy, x + dx] }
            }
        }
        return out
    }

    /// The box (`top`, `left`, `height`, `width`) of the image resized bilinearly to the
    /// image's own size (torchvision `resized_crop`). The box lies inside the image and is no
    /// larger than it, so the resize never shrinks and needs no antialiasing.
    /// - Parameters:
    ///   - image: (C, H, W).
    ///   - top: first row of the box.
    ///   - left: first column of the box.
    ///   - height: rows in the box, 1...H - top.
    ///   - width: columns in the box, 1...W - left.
    static func resizedCrop(_ image: PlanarImage, top: Int, left: Int, height: Int, width: Int) -> PlanarImage {
        precondition(
            top >= 0 && left >= 0 && height >= 1 && width >= 1 && top + height <= image.height
                && left + width <= image.width,
            "the box (\(top), \(left), \(height), \(width)) lies outside a \(image.height)x\(image.width) image")
        let rows = resizeTaps(from: height, to: image.height), cols = resizeTaps(from: width, to: image.width)
        var out = PlanarImage(zerosWithChannels: image.channels, height: image.height, width: image.width)
        for c in 0..<image.channels {
            for (y, r) in rows.enumerated() {
                for (x, k) in cols.enumerated() {
                    let y0 = top + r.low, y1 = top + r.high, x0 = left + k.low, x1 = left + k.high
                    let upper = image[c, y0, x0] * (1 - k.fraction) + image[c, y0, x1] * k.fraction
                    let lower = image[c, y1, x0] * (1 - k.fraction) + image[c, y1, x1] * k.fraction
                    out[c, y, x] = upper * (1 - r.fraction) + lower * r.fraction
                }
            }
        }
        return out
    }

    /// The two source positions and the weight of the second for each output position of a
    /// bilinear resize with half-pixel centres (PyTorch `interpolate(..., align_corners=False)`):
    /// source = (out + 0.5) · in / out - 0.5, clamped to the edge.
    static func resizeTaps(from source: Int, to target: Int) -> [(low: Int, high: Int, fraction: Float)] {
        let scale = Double(source) / Double(target)
        return (0..<target).map { i in
            let s = max(0, (Double(i) + 0.5) * scale - 0.5)
            let low = min(Int(s), source - 1)
            return (low, min(low + 1, source - 1), Float(s - Double(low)))
        }
    }

    /// The image mirrored left to right (torchvision `hflip`).
    /// - Parameter image: (C, H, W).
    static func flipHorizontally(_ image: PlanarImage) -> PlanarImage {
        var out = image
        for c in 0..<image.channels {
            for y in 0..<image.height {
                for x in 0..<image.width { out[c, y, x] = image[c, y, image.width - 1 - x] }
            }
        }
        return out
    }

    /// The image rotated counter-clockwise by `degrees` about its centre, keeping its size:
    /// bilinear sampling with zeros outside the image (torchvision `rotate`, whose inverse map
    /// takes output (x, y), measured from the centre ((W-1)/2, (H-1)/2) with y downwards, to input
    /// (x cos a - y sin a, x sin a + y cos a)).
    /// - Parameters:
    ///   - image: (C, H, W).
    ///   - degrees: the angle; positive turns counter-clockwise.
    static func rotate(_ image: PlanarImage, degrees: Double) -> PlanarImage {
        let radians = degrees * Double.pi / 180
        let (cosine, sine) = (cos(radians), sin(radians))
        let cx = Double(image.width - 1) / 2, cy = Double(image.height - 1) / 2
        var out = PlanarImage(zerosWithChannels: image.channels, height: image.height, width: image.width)
        for y in 0..<image.height {
            for x in 0..<image.width {
                let u = Double(x) - cx, v = Double(y) - cy
                let sx = cosine * u - sine * v + cx, sy = sine * u + cosine * v + cy
                let x0 = Int(sx.rounded(.down)), y0 = Int(sy.rounded(.down))
                let fx = Float(sx - Double(x0)), fy = Float(sy - Double(y0))
                guard y0 >= -1 && y0 < image.height && x0 >= -1 && x0 < image.width else { continue }
                // A neighbour outside the image contributes zero (grid_sample's zero padding).
                func tap(_ c: Int, _ ty: Int, _ tx: Int) -> Float {
                    ty >= 0 && ty < image.height && tx >= 0 && tx < image.width ? image[c, ty, tx] : 0
                }
                for c in 0..<image.channels {
                    let upper = tap(c, y0, x0) * (1 - fx) + tap(c, y0, x0 + 1) * fx
                    let lower = tap(c, y0 + 1, x0) * (1 - fx) + tap(c, y0 + 1, x0 + 1) * fx
                    out[c, y, x] = upper * (1 - fy) + lower * fy
                }
            }
        }
        return out
    }

    /// Pixels scaled by `factor`, clamped to [0, 1] (torchvision `adjust_brightness`).
    /// - Parameters:
    ///   - image: (C, H, W) in [0, 1].
    ///   - factor: 0 gives black, 1 the image itself.
    static func adjustBrightness(_ image: PlanarImage, factor: Float) -> PlanarImage {
        var out = image
        for i in out.pixels.indices { out.pixels[i] = clampUnit(factor * image.pixels[i]) }
        return out
    }

    /// Pixels blended with the mean grey level: factor · x + (1 - factor) · mean, clamped to
    /// [0, 1] (torchvision `adjust_contrast`). The grey level is ITU-R 601 luma
    /// (0.2989 R + 0.587 G + 0.114 B) for 3 channels and the pixel itself for 1; its mean is
    /// taken over the whole image.
    /// - Parameters:
    ///   - image: (C, H, W) in [0, 1] with C = 1 or 3.
    ///   - factor: 0 gives a uniform grey image, 1 the image itself.
    static func adjustContrast(_ image: PlanarImage, factor: Float) -> PlanarImage {
        precondition(
            image.channels == 1 || image.channels == 3,
            "contrast needs 1 or 3 channels, not \(image.channels)")
        let mean = greyMean(image)
        var out = image
        for i in out.pixels.indices { out.pixels[i] = clampUnit(factor * image.pixels[i] + (1 - factor) * mean) }
        return out
    }

    /// The mean grey level of an image of 1 or 3 channels, summed in Double.
    static func greyMean(_ image: PlanarImage) -> Float {
        let n = image.planeSize
        var sum = 0.0
        if image.channels == 1 {
            for i in 0..<n { sum += Double(image.pixels[i]) }
        } else {
            for i in 0..<n {
                let r = image.pixels[i], g = image.pixels[n + i], b = image.pixels[2 * n + i]
                sum += Double(0.2989 * r + 0.587 * g + 0.114 * b)
            }
        }
        return Float(sum / Double(n))
    }

    /// The box (`top`, `left`, `height`, `width`) set to 0 in every channel (torchvision `erase`).
    /// - Parameters:
    ///   - image: (C, H, W).
    ///   - top: first row.
    ///   - left: first column.
    ///   - height: rows erased.
    ///   - width: columns erased.
    static func erase(_ image: PlanarImage, top: Int, left: Int, height: Int, width: Int) -> PlanarImage {
        var out = image
        for c in 0..<image.channels {
            for y in top..<(top + height) {
                for x in left..<(left + width) { out[c, y, x] = 0 }
            }
        }
        return out
    }

    private static func clampUnit(_ v: Float) -> Float { min(max(v, 0), 1) }
}
