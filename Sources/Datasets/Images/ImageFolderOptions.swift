/// How an image folder's files become samples.
public struct ImageFolderOptions: Equatable, Sendable {
    /// Where decoded images are kept between epochs.
    public enum Cache: String, Sendable, CaseIterable {
        /// Decode every time a sample is used.
        case none
        /// Keep each decoded (converted, resized) image in memory; a rank keeps those it has read.
        case memory
    }

    /// Resize every image to this size; nil: every image must have the first image's size.
    public var imageSize: ImageSize?
    /// 1 (grey) or 3 (RGB) to convert every image; nil: the first image's colour channels.
    public var channels: Int?
    public var cache: Cache
    /// Skip files that cannot be read (and list them in `ImageFolder.skippedFiles`) instead of
    /// failing on the first one.
    public var skipBadFiles: Bool

    /// - Parameters:
    ///   - imageSize: the size every image is resized to, or nil.
    ///   - channels: 1, 3 or nil.
    ///   - cache: memory or none.
    ///   - skipBadFiles: skip and count unreadable files rather than fail.
    public init(imageSize: ImageSize? = nil, channels: Int? = nil, cache: Cache = .none, skipBadFiles: Bool = false) {
        (self.imageSize, self.channels, self.cache, self.skipBadFiles) = (imageSize, channels, cache, skipBadFiles)
    }

    /// Throws unless the options can describe an image.
    func validate() throws {
        if let channels, channels != 1 && channels != 3 {
            throw DatasetError("image channels must be 1 (grey) or 3 (RGB), not \(channels); set data.channels: 1 or 3")
        }
        if let size = imageSize, size.height < 1 || size.width < 1 {
            throw DatasetError(
                "image size \(size.height)x\(size.width) has no pixels; set data.image_size: [H, W] with H, W >= 1")
        }
    }
}
