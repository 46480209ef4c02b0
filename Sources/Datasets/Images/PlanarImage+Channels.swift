/// Channel conversion of decoded images.
extension PlanarImage {
    /// The image with `count` channels: grey to RGB repeats the grey plane; RGB to grey takes
    /// ITU-R 601 luma, 0.299 R + 0.587 G + 0.114 B, as Pillow's `convert("L")` does (in float
    /// here, where Pillow rounds to 8 bits, so the two differ by at most half a level, 0.5/255).
    /// - Parameters:
    ///   - count: 1 or 3.
    public func converted(toChannels count: Int) -> PlanarImage {
        precondition(count == 1 || count == 3, "images have 1 or 3 channels")
        guard count != channels else { return self }
        let plane = height * width
        if count == 3 {
            return PlanarImage(channels: 3, height: height, width: width, pixels: pixels + pixels + pixels)
        }
        let grey = [Float](unsafeUninitializedCapacity: plane) { out, n in
            pixels.withUnsafeBufferPointer { p in
                for i in 0..<plane {
                    out[i] = 0.299 * p[i] + 0.587 * p[plane + i] + 0.114 * p[2 * plane + i]
                }
            }
            n = plane
        }
        return PlanarImage(channels: 1, height: height, width: width, pixels: grey)
    }
}
