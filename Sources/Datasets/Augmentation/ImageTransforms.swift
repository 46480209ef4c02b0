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
        // Output (y, x) reads padded (y + top, x + left), which is input (y + top - P, x + left - P).
        let (h, w, dy, dx) = (image.height, image.width, top - padding, left - padding)
        let rows = max(0, -dy)..<min(h, h - dy), cols = max(0, -dx)..<min(w, w - dx)
        return image.remapped { src, dst in
            guard !rows.isEmpty, !cols.isEmpty else { return }
            for c in 0..<image.channels {
                for y in rows {
                    for x in cols { dst[(c * h + y) * w + x] = src[(c * h + y + dy) * w + x + dx] }
                }
            }
        }
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
        let (h, w) = (image.height, image.width)
        return image.remapped { src, dst in
            for c in 0..<image.channels {
                for (y, r) in rows.enumerated() {
                    let upperRow = (c * h + top + r.low) * w + left, lowerRow = (c * h + top + r.high) * w + left
                    for (x, k) in cols.enumerated() {
                        let upper = src[upperRow + k.low] * (1 - k.fraction) + src[upperRow + k.high] * k.fraction
                        let lower = src[lowerRow + k.low] * (1 - k.fraction) + src[lowerRow + k.high] * k.fraction
                        dst[(c * h + y) * w + x] = upper * (1 - r.fraction) + lower * r.fraction
                    }
                }
            }
        }
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
        let w = image.width
        return image.remapped { src, dst in
            for row in stride(from: 0, to: src.count, by: w) {
                for x in 0..<w { dst[row + x] = src[row + w - 1 - x] }
            }
        }
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
        let (h, w, plane) = (image.height, image.width, image.planeSize)
        return image.remapped { src, dst in
            for y in 0..<h {
                for x in 0..<w {
                    let u = Double(x) - cx, v = Double(y) - cy
                    let sx = cosine * u - sine * v + cx, sy = sine * u + cosine * v + cy
                    let x0 = Int(sx.rounded(.down)), y0 = Int(sy.rounded(.down))
                    guard y0 >= -1 && y0 < h && x0 >= -1 && x0 < w else { continue }
                    let fx = Float(sx - Double(x0)), fy = Float(sy - Double(y0))
                    // A neighbour outside the image weighs nothing (grid_sample's zero padding).
                    let inY0 = y0 >= 0, inY1 = y0 + 1 < h, inX0 = x0 >= 0, inX1 = x0 + 1 < w
                    let top = y0 * w + x0, bottom = top + w
                    for c in stride(from: 0, to: src.count, by: plane) {
                        let topLeft: Float = inY0 && inX0 ? src[c + top] : 0
                        let topRight: Float = inY0 && inX1 ? src[c + top + 1] : 0
                        let bottomLeft: Float = inY1 && inX0 ? src[c + bottom] : 0
                        let bottomRight: Float = inY1 && inX1 ? src[c + bottom + 1] : 0
                        let upper = topLeft * (1 - fx) + topRight * fx, lower = bottomLeft * (1 - fx) + bottomRight * fx
                        dst[c + y * w + x] = upper * (1 - fy) + lower * fy
                    }
                }
            }
        }
    }

    /// Pixels scaled by `factor`, clamped to [0, 1] (torchvision `adjust_brightness`).
    /// - Parameters:
    ///   - image: (C, H, W) in [0, 1].
    ///   - factor: 0 gives black, 1 the image itself.
    static func adjustBrightness(_ image: PlanarImage, factor: Float) -> PlanarImage {
        image.remapped { src, dst in
            for i in src.indices { dst[i] = clampUnit(factor * src[i]) }
        }
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
        return image.remapped { src, dst in
            for i in src.indices { dst[i] = clampUnit(factor * src[i] + (1 - factor) * mean) }
        }
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
        out.pixels.withUnsafeMutableBufferPointer { dst in
            for c in 0..<image.channels {
                for y in top..<(top + height) {
                    let row = (c * image.height + y) * image.width
                    for x in left..<(left + width) { dst[row + x] = 0 }
                }
            }
        }
        return out
    }

    private static func clampUnit(_ v: Float) -> Float { min(max(v, 0), 1) }
}
